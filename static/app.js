// Small enhancements on top of htmx; every form works without this file.
(function () {
  "use strict";
  function itemOf(evt) {
    var elt = evt.detail && evt.detail.elt;
    return elt && elt.closest ? elt.closest("form.item") : null;
  }
  function say(evt, key) {
    var form = itemOf(evt);
    if (!form) return;
    var box = form.querySelector(".offline");
    if (box) { box.textContent = document.body.dataset[key]; box.hidden = false; }
  }
  // No signal in the garage: tell the supervisor the tap was not saved; the form keeps its state.
  document.addEventListener("htmx:sendError", function (evt) { say(evt, "offline"); });
  document.addEventListener("htmx:responseError", function (evt) {
    say(evt, evt.detail.xhr && evt.detail.xhr.status === 400 ? "expired" : "failed");
  });
  // Crews need to see that the camera photo was taken before they tap the button.
  document.addEventListener("change", function (evt) {
    var input = evt.target;
    if (!input.matches || !input.matches("input[type=file]") || !input.id) return;
    var hint = document.querySelector('.files[data-for="' + input.id + '"]');
    if (hint) hint.textContent = input.files.length ? document.body.dataset.chosen + " " + input.files.length : "";
  });
})();

// Small enhancements on top of htmx; every form works without this file.
(function () {
  "use strict";
  function formOf(evt) {
    var elt = evt.detail && evt.detail.elt;
    return elt && elt.closest ? elt.closest("form") : null;
  }
  function say(evt, key) {
    var form = formOf(evt);
    if (!form) return;
    var box = form.querySelector(".offline");
    if (!box) {  // a form without its own status line gets one, where the user is looking
      box = document.createElement("p");
      box.className = "error offline";
      box.setAttribute("role", "alert");
      form.insertBefore(box, form.firstChild);
    }
    box.textContent = document.body.dataset[key];
    box.hidden = false;
  }
  var BY_STATUS = {400: "expired", 413: "tooLarge"};
  // No signal in the garage: tell the user the tap was not saved; the form keeps its state. (An answer
  // that static/queue.js kept on the phone instead is marked "waiting to send" there.)
  document.addEventListener("htmx:sendError", function (evt) { if (!evt.detail.queued) say(evt, "offline"); });
  document.addEventListener("htmx:responseError", function (evt) {
    say(evt, BY_STATUS[evt.detail.xhr && evt.detail.xhr.status] || "failed");
  });
  // A refusal is shown where the user is looking: focus it (screen readers read it) and scroll to it.
  function showRefusal(root) {
    // A refusal inside its form first (where the user acts), else any error on the page.
    var alerts = Array.prototype.slice.call(root.querySelectorAll(".refusal"))
      .concat(Array.prototype.slice.call(root.querySelectorAll(".error[role=alert], .flash-error")));
    for (var i = 0; i < alerts.length; i++) {
      var box = alerts[i];
      if (box.hidden || !box.textContent.trim() || box.classList.contains("offline")) continue;
      if (!box.hasAttribute("tabindex")) box.setAttribute("tabindex", "-1");
      box.focus({preventScroll: true});
      box.scrollIntoView({block: "center"});
      return;
    }
  }
  document.addEventListener("DOMContentLoaded", function () { showRefusal(document); });
  document.addEventListener("htmx:afterSettle", function (evt) {
    var xhr = evt.detail.xhr;
    var elt = evt.detail.elt;
    if (xhr && xhr.status >= 400) showRefusal(elt && elt.isConnected ? elt : document);
  });
  // Crews need to see that the camera photo was taken before they tap the button.
  document.addEventListener("change", function (evt) {
    var input = evt.target;
    if (!input.matches || !input.matches("input[type=file]") || !input.id) return;
    var hint = document.querySelector('.files[data-for="' + input.id + '"]');
    if (hint) hint.textContent = input.files.length ? document.body.dataset.chosen + " " + input.files.length : "";
  });
  // A defect's severity badge follows the severity chosen (the autosave answers 204: no swap).
  document.addEventListener("change", function (evt) {
    var select = evt.target;
    if (!select.matches || !select.matches("form.item select[name=severity]")) return;
    var badge = select.form.querySelector(".meta .sev");
    if (!badge || select.selectedIndex < 0) return;
    badge.className = "sev sev-" + select.value;
    badge.textContent = select.options[select.selectedIndex].text;
  });
  // Copy or share a link shown in a text box (the owner's link): the phone's share sheet where
  // the browser has one, copying otherwise; the outcome is announced in the box's status line.
  function linkButtons(root) {
    root.querySelectorAll("[data-share]").forEach(function (b) { b.hidden = !navigator.share; });
    root.querySelectorAll("[data-copy]").forEach(function (b) { b.hidden = false; });
  }
  function tell(box, text) {
    var status = document.getElementById(box.id + "-status");
    if (status) status.textContent = text;
  }
  function copied(button, box, ok) {
    if (!ok) { box.focus(); box.select(); }
    tell(box, ok ? button.dataset.done : button.dataset.failed);
  }
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest("[data-copy], [data-share]");
    if (!button) return;
    var box = document.getElementById(button.dataset.copy || button.dataset.share);
    if (!box) return;
    if (button.dataset.share) {
      navigator.share({ title: button.dataset.title, url: box.value }).catch(function () {});
      return;
    }
    tell(box, "");
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(box.value).then(function () { copied(button, box, true); },
                                                    function () { copied(button, box, false); });
    } else {
      box.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      copied(button, box, ok);
    }
  });
  document.addEventListener("DOMContentLoaded", function () { linkButtons(document); });
  document.addEventListener("htmx:load", function (evt) { linkButtons(evt.detail.elt); });

  // --- Installable, and a started round's pages kept for no signal (static/sw.js) ---------------
  // The worker is told each page opened: a round's page makes it keep the whole round.
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", {scope: "/"}).catch(function () {});
    navigator.serviceWorker.ready.then(function (reg) {
      if (reg.active) reg.active.postMessage({type: "page", path: location.pathname, lang: document.documentElement.lang,
                                           online: navigator.onLine});
    });
    navigator.serviceWorker.addEventListener("message", function (evt) {
      // Tests (and a later "ready offline" mark) read which round is kept on the phone.
      if (evt.data && evt.data.type === "round-kept") document.documentElement.dataset.roundKept = evt.data.round;
    });
  }
  // The page says when it is offline (an empty live region until then, so the change is announced).
  function netstate() {
    var box = document.getElementById("netstate");
    if (box) box.textContent = navigator.onLine ? "" : box.dataset.text;
  }
  window.addEventListener("online", netstate);
  window.addEventListener("offline", netstate);
  document.addEventListener("DOMContentLoaded", netstate);
  window.addEventListener("pageshow", netstate);
  // Install: the browser's own prompt behind a small button (Android Chrome, Edge); on an iPhone's
  // Safari, which has none, a one-line hint on Today. Dismissed once, remembered on the phone.
  var DISMISSED = "rounds.install-dismissed";
  var deferred = null;
  function remembered() {
    try { return localStorage.getItem(DISMISSED) === "1"; } catch (e) { return false; }
  }
  function showInstall(ios) {
    var box = document.getElementById("install");
    if (!box || remembered()) return;
    box.querySelector("[data-install]").hidden = ios;
    box.querySelector("[data-ios-hint]").hidden = !ios;
    box.hidden = false;
  }
  function hideInstall() {
    var box = document.getElementById("install");
    if (box) box.hidden = true;
  }
  window.addEventListener("beforeinstallprompt", function (evt) {
    evt.preventDefault();
    deferred = evt;
    showInstall(false);
  });
  window.addEventListener("appinstalled", hideInstall);
  document.addEventListener("click", function (evt) {
    var t = evt.target.closest && evt.target.closest("[data-install], [data-dismiss-install]");
    if (!t) return;
    if (t.hasAttribute("data-dismiss-install")) {
      try { localStorage.setItem(DISMISSED, "1"); } catch (e) { /* private mode: hidden for this page */ }
      hideInstall();
    } else if (deferred) {
      deferred.prompt();
      deferred.userChoice.then(function () { deferred = null; hideInstall(); });
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    var ios = /iPhone|iPad|iPod/.test(navigator.userAgent) && !window.MSStream;
    if (ios && navigator.standalone === false && location.pathname === "/today") showInstall(true);
  });
})();

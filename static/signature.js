// Finger signature pads: draw on a canvas, keep a PNG data URL in the form's hidden field.
(function () {
  "use strict";
  document.querySelectorAll("canvas.pad").forEach(function (canvas) {
    var ctx = canvas.getContext("2d");
    var field = document.getElementById(canvas.dataset.target);
    var drawing = false, inked = false;
    ctx.lineWidth = 5; ctx.lineCap = "round"; ctx.lineJoin = "round"; ctx.strokeStyle = "#000";
    // Back from a refusal: a signature the server kept is shown again, so nobody signs twice.
    if (/^data:image\/png;base64,/.test(field.value)) {
      var kept = new Image();
      kept.onload = function () { if (!inked) { ctx.drawImage(kept, 0, 0, canvas.width, canvas.height); inked = true; } };
      kept.src = field.value;
    }
    function point(evt) {
      var r = canvas.getBoundingClientRect();
      return { x: (evt.clientX - r.left) * canvas.width / r.width, y: (evt.clientY - r.top) * canvas.height / r.height };
    }
    canvas.addEventListener("pointerdown", function (evt) {
      drawing = true; canvas.setPointerCapture(evt.pointerId);
      var p = point(evt); ctx.beginPath(); ctx.moveTo(p.x, p.y); evt.preventDefault();
    });
    canvas.addEventListener("pointermove", function (evt) {
      if (!drawing) return;
      var p = point(evt); ctx.lineTo(p.x, p.y); ctx.stroke(); inked = true; evt.preventDefault();
    });
    function end() {
      if (!drawing) return;
      drawing = false;
      if (inked) field.value = canvas.toDataURL("image/png");
    }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    var clear = document.querySelector('[data-clear="' + canvas.dataset.target + '"]');
    if (clear) clear.addEventListener("click", function () {
      ctx.clearRect(0, 0, canvas.width, canvas.height); field.value = ""; inked = false;
    });
  });
})();

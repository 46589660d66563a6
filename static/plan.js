/* Floor plans (templates/handover/_plan.html): pins stay 44 px whatever the zoom; two fingers (or the
   + / − buttons) zoom and move the plan by changing the SVG's viewBox; a tap on a "place" plan fills
   the page's position form and sends it; on a "draw" plan a drag (or two taps) draws a room. */
(function () {
  "use strict";
  var PIN_PX = 22, DOT = 0.68, TEXT = 0.8;

  function setup(frame) {
    var svg = frame.querySelector("svg.plan-svg");
    if (!svg) return;
    var W = +svg.dataset.w, H = +svg.dataset.h, mode = frame.dataset.plan;
    var vb = { x: 0, y: 0, w: W, h: H };

    function apply() {
      svg.setAttribute("viewBox", [vb.x, vb.y, vb.w, vb.h].join(" "));
      sizePins();
    }
    function unitsPerPx() {
      var rect = svg.getBoundingClientRect();
      if (!rect.width) return W / 340;
      return Math.max(vb.w / rect.width, vb.h / rect.height);
    }
    function sizePins() {
      var u = unitsPerPx();
      svg.querySelectorAll(".pin").forEach(function (pin) {
        var hit = pin.querySelector(".pin-hit"), dot = pin.querySelector(".pin-dot"), n = pin.querySelector(".pin-n");
        hit.setAttribute("r", PIN_PX * u);
        dot.setAttribute("r", PIN_PX * DOT * u);
        if (n) n.setAttribute("font-size", PIN_PX * TEXT * u);
      });
      var corner = svg.querySelector(".plan-corner");
      if (corner) corner.setAttribute("r", 8 * u);
    }
    function clamp() {
      vb.w = Math.min(W, Math.max(W / 8, vb.w));
      vb.h = vb.w * H / W;
      vb.x = Math.min(W - vb.w, Math.max(0, vb.x));
      vb.y = Math.min(H - vb.h, Math.max(0, vb.y));
    }
    function toPlan(clientX, clientY) {
      var pt = svg.createSVGPoint();
      pt.x = clientX; pt.y = clientY;
      var p = pt.matrixTransform(svg.getScreenCTM().inverse());
      return { x: p.x, y: p.y, fx: p.x / W, fy: p.y / H };
    }
    function zoomAt(factor, cx, cy) {
      var p = toPlan(cx, cy), nw = vb.w / factor;
      nw = Math.min(W, Math.max(W / 8, nw));
      var k = nw / vb.w;
      vb.x = p.x - (p.x - vb.x) * k;
      vb.y = p.y - (p.y - vb.y) * k;
      vb.w = nw;
      clamp(); apply();
    }

    frame.querySelectorAll("[data-zoom]").forEach(function (b) {
      b.addEventListener("click", function () {
        var r = svg.getBoundingClientRect(), cx = r.left + r.width / 2, cy = r.top + r.height / 2;
        if (b.dataset.zoom === "in") zoomAt(1.6, cx, cy);
        else if (b.dataset.zoom === "out") zoomAt(1 / 1.6, cx, cy);
        else { vb = { x: 0, y: 0, w: W, h: H }; apply(); }
      });
    });

    // Two fingers: pinch to zoom, move together to pan. One finger is left to the page (scroll, tap).
    var pinch = null;
    function mid(t) { return { x: (t[0].clientX + t[1].clientX) / 2, y: (t[0].clientY + t[1].clientY) / 2 }; }
    function dist(t) { return Math.hypot(t[0].clientX - t[1].clientX, t[0].clientY - t[1].clientY) || 1; }
    svg.addEventListener("touchstart", function (e) {
      if (e.touches.length === 2) {
        e.preventDefault();
        var m = mid(e.touches);
        pinch = { d: dist(e.touches), vb: { x: vb.x, y: vb.y, w: vb.w, h: vb.h }, p: toPlan(m.x, m.y), moved: false };
      }
    }, { passive: false });
    svg.addEventListener("touchmove", function (e) {
      if (!pinch || e.touches.length !== 2) return;
      e.preventDefault();
      var m = mid(e.touches), r = svg.getBoundingClientRect();
      vb.w = pinch.vb.w * pinch.d / dist(e.touches);
      clamp();
      // Keep the plan point first under the fingers under them now.
      var scale = Math.max(vb.w / r.width, vb.h / r.height);
      var offX = (r.width - vb.w / scale) / 2, offY = (r.height - vb.h / scale) / 2;
      vb.x = pinch.p.x - (m.x - r.left - offX) * scale;
      vb.y = pinch.p.y - (m.y - r.top - offY) * scale;
      clamp(); apply();
      pinch.moved = true;
    }, { passive: false });
    svg.addEventListener("touchend", function (e) {
      if (pinch && e.touches.length < 2) { frame.dataset.pinched = pinch.moved ? "1" : ""; pinch = null; }
    });

    if (mode === "place") setupPlace(frame, svg, toPlan);
    if (mode === "draw") setupDraw(frame, svg, toPlan, W, H);
    window.addEventListener("resize", sizePins);
    sizePins();
  }

  function percent(v) { return (Math.round(Math.min(1, Math.max(0, v)) * 1000) / 10).toFixed(1); }

  function setupPlace(frame, svg, toPlan) {
    var form = document.querySelector("form.plan-tap");
    if (!form) return;
    svg.addEventListener("click", function (e) {
      if (e.target.closest(".pin")) return;  // a pin opens its defect
      if (frame.dataset.pinched) { frame.dataset.pinched = ""; return; }
      var p = toPlan(e.clientX, e.clientY);
      if (p.fx < 0 || p.fx > 1 || p.fy < 0 || p.fy > 1) return;
      form.querySelector("[name=x]").value = percent(p.fx);
      form.querySelector("[name=y]").value = percent(p.fy);
      form.submit();
    });
  }

  function setupDraw(frame, svg, toPlan, W, H) {
    var form = document.querySelector("form.room-form");
    var draft = svg.querySelector(".plan-draft"), corner = svg.querySelector(".plan-corner");
    if (!form || !draft) return;
    var start = null, pending = null, dragging = false;
    function show(a, b) {
      draft.setAttribute("x", Math.min(a.x, b.x)); draft.setAttribute("y", Math.min(a.y, b.y));
      draft.setAttribute("width", Math.abs(a.x - b.x)); draft.setAttribute("height", Math.abs(a.y - b.y));
    }
    function fill(a, b) {
      show(a, b);
      form.querySelector("[name=x0]").value = percent(Math.min(a.fx, b.fx));
      form.querySelector("[name=y0]").value = percent(Math.min(a.fy, b.fy));
      form.querySelector("[name=x1]").value = percent(Math.max(a.fx, b.fx));
      form.querySelector("[name=y1]").value = percent(Math.max(a.fy, b.fy));
      var select = form.querySelector("select");
      if (select && !select.value) select.focus();
    }
    svg.addEventListener("pointerdown", function (e) {
      if (!e.isPrimary) return;
      start = toPlan(e.clientX, e.clientY); dragging = false;
      svg.setPointerCapture(e.pointerId);
    });
    svg.addEventListener("pointermove", function (e) {
      if (!start || !e.isPrimary) return;
      var p = toPlan(e.clientX, e.clientY);
      if (Math.abs(p.fx - start.fx) > 0.02 || Math.abs(p.fy - start.fy) > 0.02) dragging = true;
      if (dragging) show(start, p);
    });
    svg.addEventListener("pointerup", function (e) {
      if (!start || !e.isPrimary) return;
      var p = toPlan(e.clientX, e.clientY);
      if (dragging) { fill(start, p); pending = null; corner.setAttribute("cx", -100); }
      else if (pending) { fill(pending, p); pending = null; corner.setAttribute("cx", -100); }
      else { pending = p; corner.setAttribute("cx", p.x); corner.setAttribute("cy", p.y); draft.setAttribute("width", 0); }
      start = null;
    });
    svg.addEventListener("pointercancel", function () { start = null; });
  }

  function init() { document.querySelectorAll("[data-plan]").forEach(setup); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();

// Drawing on a photo before it is saved: freehand, arrow, circle and a short label, in red or yellow,
// with undo (a canvas; no framework). Every photo field (input[type=file][name=photos]) gets a
// "Draw on photo" button beside its own: the photo then chosen or taken opens in the editor (#markup in
// templates/_markup.html, which holds every word), and "Use photo" puts the marked picture (long edge
// at most 1600 px, as the server keeps it) in the field in place of the photo, and the photo itself in
// the form's hidden field "originals" under the same file name. Whatever sends the form then sends
// both: the form itself, htmx (a round's item sends on change: it is told only once the editor is
// closed) and static/queue.js, which keeps them on the phone with no signal, shrunk like any photo
// (it keeps file names). The server stores the original too and shows the marked one.
// With no DataTransfer (iOS before 14.5) or pointer events the button does not appear: photos go as taken.
(function () {
  "use strict";
  const box = document.getElementById("markup");
  if (!box || !window.PointerEvent || !window.File) return;
  try { new DataTransfer(); } catch (e) { return; }
  const words = box.dataset;
  const EDGE = 1600;
  const canvas = box.querySelector("canvas");
  const ctx = canvas.getContext("2d");
  const kept = document.createElement("canvas");   // the photo with the finished strokes
  const keptCtx = kept.getContext("2d");
  const ghost = box.querySelector(".markup-ghost");
  const labelRow = box.querySelector(".markup-label");
  const labelText = box.querySelector("#markup-text");
  const undoButton = box.querySelector("[data-undo]");
  const beforeButton = box.querySelector("[data-before]");
  const counter = box.querySelector("[data-markup-count]");
  let tool = "pen", colour = "#e8251f";
  let ops = [], current = null, pointer = null, image = null;
  let session = null;  // {input, files, i, marked: [], originals: [], opener}

  // --- the button beside each photo field -----------------------------------------------------

  function enhance(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("input[type=file][name=photos]").forEach((input) => {
      if (input.dataset.markup || !input.id) return;
      input.dataset.markup = "1";
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button camera markup-start";
      button.textContent = words.start;
      button.dataset.markupFor = input.id;
      const label = input.form && input.form.querySelector('label[for="' + input.id + '"]');
      (label || input).insertAdjacentElement("afterend", button);
    });
  }
  document.addEventListener("DOMContentLoaded", () => enhance(document));
  document.addEventListener("htmx:load", (evt) => enhance(evt.detail.elt));
  enhance(document);

  document.addEventListener("click", (evt) => {
    const t = evt.target.closest && evt.target.closest("[data-markup-for], label[for]");
    if (!t) return;
    const input = document.getElementById(t.dataset.markupFor || t.htmlFor);
    if (!input || !input.dataset.markup) return;
    if (t.dataset.markupFor) {
      input.dataset.markupNext = "1";  // the photo now chosen opens in the editor
      session = {opener: t};
      input.click();
    } else {
      delete input.dataset.markupNext;  // the field's own button: photos as taken
    }
  });
  document.addEventListener("cancel", (evt) => {
    if (evt.target.dataset) delete evt.target.dataset.markupNext;
  }, true);

  function originalsOf(input) {
    let field = input.form.querySelector("input[type=file][name=originals]");
    if (!field) {
      field = document.createElement("input");
      field.type = "file";
      field.name = "originals";
      field.multiple = true;
      field.hidden = true;
      field.tabIndex = -1;
      field.setAttribute("aria-hidden", "true");
      input.insertAdjacentElement("afterend", field);
    }
    return field;
  }

  // Seen before htmx (which sends a round's item on change) and the other scripts: held until the
  // editor closes. A field emptied or chosen again without the editor drops originals it had.
  document.addEventListener("change", (evt) => {
    const input = evt.target;
    if (!input.matches || !input.matches("input[type=file][name=photos]") || !input.dataset.markup) return;
    if (input.dataset.markupSent) { delete input.dataset.markupSent; return; }
    const old = input.form && input.form.querySelector("input[type=file][name=originals]");
    if (!input.dataset.markupNext) {
      if (old) old.value = "";
      return;
    }
    delete input.dataset.markupNext;
    if (old) old.value = "";
    const files = Array.prototype.filter.call(input.files, (f) => /^image\//.test(f.type) || !f.type);
    if (!files.length) return;
    evt.stopImmediatePropagation();
    session = {input: input, files: files, i: 0, marked: [], originals: [],
               opener: (session && session.opener) || null};
    next();
  }, true);

  // --- one photo after another ----------------------------------------------------------------

  const decode = window.RoundsImages.decode;  // static/queue.js, loaded first

  function next() {
    const s = session;
    if (s.i >= s.files.length) { finish(); return; }
    const file = s.files[s.i];
    decode(file).then((img) => open(img), () => {  // the browser cannot show it: it goes as taken
      s.marked.push(file);
      s.i += 1;
      next();
    });
  }

  function open(img) {
    const w = img.naturalWidth || img.width, h = img.naturalHeight || img.height;
    const scale = Math.min(1, EDGE / Math.max(w, h));
    canvas.width = kept.width = Math.max(1, Math.round(w * scale));
    canvas.height = kept.height = Math.max(1, Math.round(h * scale));
    image = img;
    ops = [];
    current = null;
    labelText.value = "";
    redrawKept();
    const before = session.input.dataset.before;
    beforeButton.hidden = !before;
    ghost.hidden = true;
    beforeButton.setAttribute("aria-pressed", "false");
    if (before) ghost.src = before;
    counter.textContent = session.files.length > 1
      ? words.count.replace("{n}", session.i + 1).replace("{total}", session.files.length) : "";
    if (box.hidden) {
      box.hidden = false;
      document.documentElement.classList.add("markup-open");
      box.querySelector("[data-tool][aria-pressed=true]").focus();
    }
  }

  function close() {
    box.hidden = true;
    document.documentElement.classList.remove("markup-open");
    if (image && image.close) image.close();
    image = null;
    const s = session;
    session = null;
    const back = s && s.opener && s.opener.isConnected ? s.opener : s && s.input;
    if (back && back.focus) back.focus({preventScroll: true});
  }

  function take(markedFile) {
    const s = session;
    const original = s.files[s.i];
    if (markedFile) {
      const name = "m" + Date.now().toString(36) + Math.random().toString(36).slice(2, 8) + ".jpg";
      s.marked.push(new File([markedFile], name, {type: "image/jpeg"}));
      s.originals.push(new File([original], name, {type: original.type || "image/jpeg"}));
    } else {
      s.marked.push(original);
    }
    s.i += 1;
    next();
  }

  function finish() {
    const s = session;
    const photos = new DataTransfer(), originals = new DataTransfer();
    s.marked.forEach((f) => photos.items.add(f));
    s.originals.forEach((f) => originals.items.add(f));
    s.input.files = photos.files;
    originalsOf(s.input).files = originals.files;
    close();
    s.input.dataset.markupSent = "1";
    s.input.dispatchEvent(new Event("change", {bubbles: true}));  // now htmx may send a round's item
  }

  // --- drawing --------------------------------------------------------------------------------

  function size() {
    return Math.max(canvas.width, canvas.height);
  }

  function paint(c, op) {
    const lw = Math.max(3, Math.round(size() / 150));
    c.save();
    c.lineCap = "round";
    c.lineJoin = "round";
    // Twice: a dark edge first, so yellow reads on a white wall and red on a dark one.
    [["rgba(0,0,0,.55)", lw + Math.max(2, lw / 2)], [op.colour, lw]].forEach((pass) => {
      c.strokeStyle = pass[0];
      c.fillStyle = pass[0];
      c.lineWidth = pass[1];
      const p = op.points, a = p[0], b = p[p.length - 1];
      if (op.tool === "text") {
        c.font = "bold " + Math.round(size() / 22) + "px sans-serif";
        c.textBaseline = "middle";
        if (pass[0] === op.colour) c.fillText(op.text, a.x, a.y);
        else { c.lineWidth = lw; c.strokeText(op.text, a.x, a.y); }
        return;
      }
      c.beginPath();
      if (op.tool === "circle") {
        c.ellipse((a.x + b.x) / 2, (a.y + b.y) / 2, Math.abs(b.x - a.x) / 2 + 1, Math.abs(b.y - a.y) / 2 + 1,
                  0, 0, 2 * Math.PI);
      } else if (op.tool === "arrow") {
        const angle = Math.atan2(b.y - a.y, b.x - a.x), head = lw * 4;
        c.moveTo(a.x, a.y);
        c.lineTo(b.x, b.y);
        c.moveTo(b.x - head * Math.cos(angle - 0.5), b.y - head * Math.sin(angle - 0.5));
        c.lineTo(b.x, b.y);
        c.lineTo(b.x - head * Math.cos(angle + 0.5), b.y - head * Math.sin(angle + 0.5));
      } else {
        c.moveTo(a.x, a.y);
        p.forEach((q) => c.lineTo(q.x, q.y));
      }
      c.stroke();
    });
    c.restore();
  }

  function redrawKept() {
    keptCtx.drawImage(image, 0, 0, kept.width, kept.height);
    ops.forEach((op) => paint(keptCtx, op));
    undoButton.disabled = !ops.length;
    show();
  }

  function show() {
    ctx.drawImage(kept, 0, 0);
    if (current) paint(ctx, current);
  }

  function add(op) {
    ops.push(op);
    redrawKept();
  }

  function at(evt) {
    const r = canvas.getBoundingClientRect();
    return {x: (evt.clientX - r.left) * canvas.width / r.width, y: (evt.clientY - r.top) * canvas.height / r.height};
  }

  function placeLabel(point) {
    const text = labelText.value.trim();
    if (!text) { labelText.focus(); return; }
    add({tool: "text", colour: colour, text: text, points: [point]});
    labelText.value = "";
  }

  canvas.addEventListener("pointerdown", (evt) => {
    if (pointer !== null || !image) return;  // one finger draws; a second is ignored
    evt.preventDefault();
    const p = at(evt);
    if (tool === "text") { placeLabel(p); return; }
    pointer = evt.pointerId;
    canvas.setPointerCapture(evt.pointerId);
    current = {tool: tool, colour: colour, points: [p, p]};
    show();
  });
  canvas.addEventListener("pointermove", (evt) => {
    if (evt.pointerId !== pointer || !current) return;
    evt.preventDefault();
    const p = at(evt);
    if (current.tool === "pen") current.points.push(p);
    else current.points[1] = p;
    show();
  });
  function lift(evt) {
    if (evt.pointerId !== pointer) return;
    pointer = null;
    const op = current;
    current = null;
    const a = op.points[0], b = op.points[op.points.length - 1];
    if (op.tool === "pen" || Math.hypot(b.x - a.x, b.y - a.y) > size() / 100) add(op);
    else show();  // a tap with the arrow or circle draws nothing
  }
  canvas.addEventListener("pointerup", lift);
  canvas.addEventListener("pointercancel", lift);
  // From the keyboard: Enter draws the chosen shape (or places the label) at the middle of the photo.
  canvas.addEventListener("keydown", (evt) => {
    if (evt.key !== "Enter" && evt.key !== " ") return;
    evt.preventDefault();
    const w = canvas.width, h = canvas.height, mid = {x: w / 2, y: h / 2};
    if (tool === "text") placeLabel(mid);
    else if (tool === "circle") add({tool: tool, colour: colour, points: [{x: w * 0.35, y: h * 0.35}, {x: w * 0.65, y: h * 0.65}]});
    else add({tool: tool, colour: colour, points: [{x: w * 0.2, y: h * 0.8}, mid]});
  });
  labelText.addEventListener("keydown", (evt) => {
    if (evt.key === "Enter") { evt.preventDefault(); canvas.focus(); }
  });

  // --- the editor's buttons -------------------------------------------------------------------

  function press(attr, button) {
    box.querySelectorAll("[" + attr + "]").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
  }

  box.addEventListener("click", (evt) => {
    const b = evt.target.closest("button");
    if (!b || !session) return;
    if (b.dataset.tool) {
      tool = b.dataset.tool;
      press("data-tool", b);
      labelRow.hidden = tool !== "text";
      if (tool === "text") labelText.focus();
    } else if (b.dataset.colour) {
      colour = b.dataset.colour;
      press("data-colour", b);
    } else if (b.hasAttribute("data-undo")) {
      ops.pop();
      redrawKept();
      if (undoButton.disabled) box.querySelector("[data-tool][aria-pressed=true]").focus();
    } else if (b.hasAttribute("data-before")) {
      ghost.hidden = !ghost.hidden;
      b.setAttribute("aria-pressed", String(!ghost.hidden));
    } else if (b.hasAttribute("data-markup-cancel")) {
      const input = session.input;
      close();
      input.value = "";  // nothing chosen: nothing is sent
    } else if (b.hasAttribute("data-markup-done")) {
      if (!ops.length) { take(null); return; }  // nothing drawn: the photo as taken
      b.disabled = true;
      kept.toBlob((blob) => { b.disabled = false; take(blob); }, "image/jpeg", 0.9);
    }
  });

  // A dialog: Escape cancels, Tab stays inside.
  box.addEventListener("keydown", (evt) => {
    if (evt.key === "Escape") {
      evt.preventDefault();
      box.querySelector("[data-markup-cancel]").click();
    } else if (evt.key === "Tab") {
      const all = Array.prototype.filter.call(box.querySelectorAll("button, input, canvas"),
                                              (el) => !el.disabled && !el.hidden && el.offsetParent !== null);
      const first = all[0], last = all[all.length - 1];
      if (evt.shiftKey && document.activeElement === first) { evt.preventDefault(); last.focus(); }
      else if (!evt.shiftKey && document.activeElement === last) { evt.preventDefault(); first.focus(); }
    }
  });

  // Tests read the editor's state through this.
  window.RoundsMarkup = {strokes: () => ops.length};
})();

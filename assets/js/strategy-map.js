// The strategy map: dragging objectives (editors) and the PNG download (everyone).
//
// The map is SVG drawn by the server (strategy/strategy_map.svg), readable and usable without this script.
// In an editor's map (<div data-map-editable>) every objective is an <a class="map-node" data-objective
// data-x data-y data-top data-bottom transform="translate(cx cy)"> and every arrow a <g class="map-link"
// data-cause data-effect data-bend>. A pointer drag, or the arrow keys on a focused objective, move it within
// its perspective's band and its arrows follow; the places moved so far go as JSON into the hidden input of
// the layout form, which "Save layout" posts in one htmx request. Places are fractions, as stored:
// x across the area all bands share, y within the room the objective's band leaves for its centre.

const KEY_STEP = 8; // map units per arrow key press; Shift moves five times as far
const DRAG_THRESHOLD = 4; // screen pixels before a press becomes a drag rather than a click

const moved = new Map(); // objective id → [x, y], not saved yet
let drag = null;
let suppressClick = false;

function geometry(svg) {
  const data = svg.dataset;
  return {
    left: Number(data.areaLeft),
    right: Number(data.areaRight),
    halfWidth: Number(data.nodeWidth) / 2 + Number(data.arrowGap),
    halfHeight: Number(data.nodeHeight) / 2 + Number(data.arrowGap),
  };
}

function centre(node, shape) {
  const top = Number(node.dataset.top);
  const bottom = Number(node.dataset.bottom);
  return [
    shape.left + Number(node.dataset.x) * (shape.right - shape.left),
    top + Number(node.dataset.y) * (bottom - top),
  ];
}

/** Where a line from a box's centre toward a point leaves the box: strategy.selectors._boundary. */
function boundary([x, y], [tx, ty], shape) {
  const dx = tx - x;
  const dy = ty - y;
  if (dx === 0 && dy === 0) return [x, y];
  const scale = Math.min(dx ? shape.halfWidth / Math.abs(dx) : Infinity, dy ? shape.halfHeight / Math.abs(dy) : Infinity);
  return [x + dx * scale, y + dy * scale];
}

/** The arrow between two boxes and its midpoint: strategy.selectors.link_geometry. */
function linkGeometry(cause, effect, bend, shape) {
  const [ax, ay] = cause;
  const [bx, by] = effect;
  const length = Math.hypot(bx - ax, by - ay) || 1;
  const control = [(ax + bx) / 2 - ((by - ay) / length) * bend, (ay + by) / 2 + ((bx - ax) / length) * bend];
  const start = boundary(cause, control, shape);
  const end = boundary(effect, control, shape);
  const f = (value) => value.toFixed(1);
  return {
    path: `M${f(start[0])},${f(start[1])} Q${f(control[0])},${f(control[1])} ${f(end[0])},${f(end[1])}`,
    middle: [(start[0] + 2 * control[0] + end[0]) / 4, (start[1] + 2 * control[1] + end[1]) / 4],
  };
}

function redrawLinks(svg, id) {
  const shape = geometry(svg);
  for (const link of svg.querySelectorAll(`.map-link[data-cause="${id}"], .map-link[data-effect="${id}"]`)) {
    const cause = svg.querySelector(`.map-node[data-objective="${link.dataset.cause}"]`);
    const effect = svg.querySelector(`.map-node[data-objective="${link.dataset.effect}"]`);
    if (!cause || !effect) continue;
    const drawn = linkGeometry(centre(cause, shape), centre(effect, shape), Number(link.dataset.bend), shape);
    for (const path of link.querySelectorAll("path")) path.setAttribute("d", drawn.path);
    link.querySelector(".link-sign")?.setAttribute("transform", `translate(${drawn.middle[0].toFixed(1)} ${drawn.middle[1].toFixed(1)})`);
  }
}

const clamp = (value) => Math.min(1, Math.max(0, value));

/** Put an objective at a place (fractions, clamped to its band) and redraw it and its arrows. */
function place(node, x, y) {
  const svg = node.ownerSVGElement;
  node.dataset.x = String(clamp(x));
  node.dataset.y = String(clamp(y));
  const [cx, cy] = centre(node, geometry(svg));
  node.setAttribute("transform", `translate(${cx.toFixed(1)} ${cy.toFixed(1)})`);
  redrawLinks(svg, node.dataset.objective);
}

/** The place an objective would have with its centre at (cx, cy), in fractions. */
function fractionsAt(node, cx, cy) {
  const shape = geometry(node.ownerSVGElement);
  const top = Number(node.dataset.top);
  const bottom = Number(node.dataset.bottom);
  return [(cx - shape.left) / (shape.right - shape.left), bottom > top ? (cy - top) / (bottom - top) : 0.5];
}

/** Note an objective's new place, to four decimals as it will be stored (and shown so straight away). */
function remember(node) {
  const round = (value) => Math.round(Number(value) * 10000) / 10000;
  const x = round(node.dataset.x);
  const y = round(node.dataset.y);
  place(node, x, y);
  moved.set(node.dataset.objective, [x, y]);
  const form = document.querySelector("[data-map-layout]");
  if (!form) return;
  form.querySelector('input[name="positions"]').value = JSON.stringify(Object.fromEntries(moved));
  form.querySelector("[data-map-save]").disabled = false;
  sayMoved();
}

function sayMoved() {
  const note = document.querySelector("[data-map-moved]");
  if (!note) return;
  if (moved.size === 0) note.textContent = "";
  else if (moved.size === 1) note.textContent = note.dataset.one;
  else note.textContent = note.dataset.many.replace("%(count)s", String(moved.size));
}

function svgPoint(svg, event) {
  return new DOMPoint(event.clientX, event.clientY).matrixTransform(svg.getScreenCTM().inverse());
}

document.addEventListener("pointerdown", (event) => {
  const node = event.target.closest?.("[data-map-editable] .map-node");
  if (!node || event.button !== 0) return;
  const svg = node.ownerSVGElement;
  const [cx, cy] = centre(node, geometry(svg));
  drag = { node, svg, start: svgPoint(svg, event), screen: [event.clientX, event.clientY], cx, cy, moving: false };
  node.setPointerCapture(event.pointerId);
});

document.addEventListener("pointermove", (event) => {
  if (!drag) return;
  if (!drag.moving) {
    if (Math.hypot(event.clientX - drag.screen[0], event.clientY - drag.screen[1]) < DRAG_THRESHOLD) return;
    drag.moving = true;
    drag.node.classList.add("is-dragging");
  }
  const point = svgPoint(drag.svg, event);
  place(drag.node, ...fractionsAt(drag.node, drag.cx + point.x - drag.start.x, drag.cy + point.y - drag.start.y));
});

function endDrag(event) {
  if (!drag) return;
  const { node, moving } = drag;
  drag = null;
  if (node.hasPointerCapture(event.pointerId)) node.releasePointerCapture(event.pointerId);
  if (!moving) return;
  node.classList.remove("is-dragging");
  node.focus({ preventScroll: true });
  suppressClick = true; // the click that ends a drag must not open the objective
  remember(node);
}

document.addEventListener("pointerup", endDrag);
document.addEventListener("pointercancel", endDrag);

document.addEventListener(
  "click",
  (event) => {
    if (!suppressClick) return;
    suppressClick = false;
    if (event.target.closest?.(".map-node")) event.preventDefault();
  },
  true,
);

// Links are draggable in their own right (to the address bar, say); on the map a drag moves the objective.
document.addEventListener("dragstart", (event) => {
  if (event.target.closest?.("[data-map-editable] .map-node")) event.preventDefault();
});

const ARROWS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

document.addEventListener("keydown", (event) => {
  const direction = ARROWS[event.key];
  const node = direction && event.target.closest?.("[data-map-editable] .map-node");
  if (!node || event.altKey || event.ctrlKey || event.metaKey) return;
  event.preventDefault();
  const step = KEY_STEP * (event.shiftKey ? 5 : 1);
  const [cx, cy] = centre(node, geometry(node.ownerSVGElement));
  place(node, ...fractionsAt(node, cx + direction[0] * step, cy + direction[1] * step));
  remember(node);
});

// Saved: nothing is pending any more (a refused save keeps the moves, so they can be corrected and sent again).
document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.detail.elt.closest?.("[data-map-layout]");
  // htmx counts a 400 (the form sent back with its errors) as successful too: go by the status.
  if (!form || event.detail.xhr.status >= 300) return;
  moved.clear();
  form.querySelector("[data-map-save]").disabled = true;
  sayMoved();
});

window.addEventListener("beforeunload", (event) => {
  if (moved.size) event.preventDefault();
});

// The PNG is drawn in the browser from the server's SVG file, at twice its size for sharp print.
async function downloadPng(button) {
  const response = await fetch(button.dataset.mapPng, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`the map's SVG answered ${response.status}`);
  const named = /filename="([^"]+)\.svg"/.exec(response.headers.get("Content-Disposition") ?? "");
  const svgUrl = URL.createObjectURL(new Blob([await response.text()], { type: "image/svg+xml" }));
  try {
    const image = new Image();
    image.src = svgUrl;
    await image.decode();
    const canvas = document.createElement("canvas");
    canvas.width = image.naturalWidth * 2;
    canvas.height = image.naturalHeight * 2;
    const context = canvas.getContext("2d");
    context.scale(2, 2);
    context.drawImage(image, 0, 0);
    const png = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
    const link = document.createElement("a");
    link.href = URL.createObjectURL(png);
    link.download = `${named ? named[1] : "strategy-map"}.png`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  } finally {
    URL.revokeObjectURL(svgUrl);
  }
}

document.addEventListener("click", (event) => {
  const button = event.target.closest?.("[data-map-png]");
  if (!button) return;
  button.disabled = true;
  downloadPng(button)
    .catch((error) => {
      window.Fourfold.showMessage(button.dataset.failed, "error");
      console.warn("Fourfold strategy map:", error);
    })
    .finally(() => {
      button.disabled = false;
    });
});

// The PNG button needs this script, so it is shown only once the script runs.
document.addEventListener("htmx:load", (event) => {
  for (const button of event.detail.elt.querySelectorAll("[data-map-png]")) button.hidden = false;
});

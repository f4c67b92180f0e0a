// The data-entry grid (measures/templates/measures/entry_grid.html): moving between cells from the keyboard,
// pasting a block copied from a spreadsheet, each cell's note, and a preview of what a changed cell would
// score, as it is typed.
//
// The grid is a form that works without this script: it posts every cell, and the server saves the ones that
// changed. With it, the server is asked (POST to data-check-url, with the changed cells) what each changed
// cell would score and whether it needs a note; its answer holds one .cell-feedback fragment per cell asked
// about, which replaces the one under that cell. Saving is htmx's (hx-post on the form), which swaps in the
// whole grid with the new scores, or with the errors next to their cells.

const GRID = "[data-entry-grid]";
const CELL = "td[data-cell]";
const CELL_INPUT = "td[data-cell] > .cell-inputs > input";
const CHECK_DELAY_MS = 300;

/** Cells typed in since the last preview, by grid, waiting for the server's verdict. */
const waiting = new WeakMap();
let checkTimer = 0;
let generation = 0;

function gridOf(element) {
  return element?.closest?.(GRID) ?? null;
}

/** The grid's inputs as rows of cells, in reading order across all its tables. */
function rowsOf(grid) {
  return [...grid.querySelectorAll("tr[data-entry-row]")].map((row) => [...row.querySelectorAll(CELL_INPUT)]);
}

function locate(grid, input) {
  const rows = rowsOf(grid);
  const row = rows.findIndex((cells) => cells.includes(input));
  return { rows, row, column: rows[row]?.indexOf(input) ?? -1 };
}

function focusCell(input) {
  if (!input) return false;
  input.focus();
  input.select();
  return true;
}

/** Up or down by `rows`, keeping the column (or the last one of a shorter row). */
function moveVertically(input, rows) {
  const { rows: grid, row, column } = locate(gridOf(input), input);
  const target = grid[row + rows];
  return target ? focusCell(target[Math.min(column, target.length - 1)]) : false;
}

/** The next or previous cell in reading order; false at either end, so that Tab leaves the grid there. */
function moveAlong(input, step) {
  const { rows, row, column } = locate(gridOf(input), input);
  const flat = rows.flat();
  const index = flat.indexOf(rows[row][column]) + step;
  return index >= 0 && index < flat.length ? focusCell(flat[index]) : false;
}

function wholeOrEdge(input, atStart) {
  const { selectionStart: start, selectionEnd: end, value } = input;
  if (start === 0 && end === value.length) return true;
  return start === end && start === (atStart ? 0 : value.length);
}

function noteOf(td) {
  return td.querySelector("details.cell-note");
}

function openNote(input) {
  noteOf(input.closest(CELL)).open = true; // the toggle handler below puts the cursor in it
}

function isChanged(td) {
  const input = td.querySelector("input");
  const note = td.querySelector("textarea");
  return input.value.trim() !== input.dataset.original || note.value.trim() !== note.dataset.original.trim();
}

function say(grid, name, count) {
  return (grid.dataset[name] ?? "").replace("{count}", String(count));
}

function showPending(grid) {
  const changed = [...grid.querySelectorAll(CELL)].filter(isChanged).length;
  const line = grid.querySelector("[data-pending]");
  if (line) line.textContent = changed ? say(grid, "pendingSome", changed) : say(grid, "pendingNone", 0);
}

/** Mark a cell as typed in: its verdict is asked for shortly, with the others typed in meanwhile. */
function touched(td) {
  const grid = gridOf(td);
  if (!waiting.has(grid)) waiting.set(grid, new Set());
  waiting.get(grid).add(td.dataset.cell);
  td.classList.toggle("is-changed", isChanged(td));
  td.querySelector("details.cell-note").classList.toggle("has-note", td.querySelector("textarea").value.trim() !== "");
  showPending(grid);
  window.clearTimeout(checkTimer);
  checkTimer = window.setTimeout(() => check(grid), CHECK_DELAY_MS);
}

/** Put the server's fragment under its cell, and mark the cell (and its input) by the fragment's state. */
function applyFeedback(fresh) {
  const current = document.getElementById(fresh.id);
  if (!current) return;
  current.innerHTML = fresh.innerHTML;
  current.dataset.state = fresh.dataset.state;
  const td = current.closest(CELL);
  const state = fresh.dataset.state;
  td.classList.toggle("has-error", state === "error");
  td.classList.toggle("needs-note", fresh.hasAttribute("data-needs-note"));
  td.classList.toggle("is-changed", state !== "stored");
  const input = td.querySelector("input");
  if (state === "error" || state === "note") input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

async function check(grid) {
  const asked = waiting.get(grid);
  if (!asked?.size || !grid.isConnected) return;
  waiting.set(grid, new Set());
  const body = new FormData();
  body.append("csrfmiddlewaretoken", grid.querySelector("[name=csrfmiddlewaretoken]").value);
  for (const td of grid.querySelectorAll(CELL)) {
    const wanted = asked.has(td.dataset.cell);
    if (!wanted && !isChanged(td)) continue;
    if (wanted) body.append("cell", td.dataset.cell);
    for (const field of td.querySelectorAll("input, textarea")) body.append(field.name, field.value);
  }
  const sent = ++generation;
  let response;
  try {
    response = await fetch(grid.dataset.checkUrl, { method: "POST", body });
  } catch {
    return; // offline: saving will say so
  }
  if (!response.ok || sent !== generation) return; // a newer question, or a save, overtook this one
  const answer = document.createElement("template");
  answer.innerHTML = await response.text();
  for (const fresh of answer.content.querySelectorAll(".cell-feedback")) applyFeedback(fresh);
}

// Arriving in a cell selects its text, so that typing replaces the value as in a spreadsheet; the click that
// brought the focus would put the cursor where it landed instead, so that one click is told not to.
let focusedByPointer = null;

document.addEventListener("focusin", (event) => {
  if (event.target.matches?.(CELL_INPUT)) event.target.select();
});

document.addEventListener("pointerdown", (event) => {
  focusedByPointer = event.target.matches?.(CELL_INPUT) && document.activeElement !== event.target ? event.target : null;
});

document.addEventListener("mouseup", (event) => {
  if (event.target === focusedByPointer) event.preventDefault();
  focusedByPointer = null;
});

document.addEventListener("input", (event) => {
  const td = event.target.closest?.(CELL);
  if (td && gridOf(td)) touched(td);
});

document.addEventListener("keydown", (event) => {
  const input = event.target;
  if (!input.matches?.(CELL_INPUT)) return;
  const { key, shiftKey, ctrlKey, metaKey, altKey } = event;
  let moved = null;
  if (key === "Enter" && (ctrlKey || metaKey)) {
    event.preventDefault();
    gridOf(input).requestSubmit();
    return;
  }
  if (key === "Enter") moved = moveVertically(input, shiftKey ? -1 : 1) || true;
  else if (key === "ArrowDown" && !altKey) moved = moveVertically(input, 1) || true;
  else if (key === "ArrowUp" && !altKey) moved = moveVertically(input, -1) || true;
  else if (key === "ArrowLeft" && !shiftKey && wholeOrEdge(input, true)) moved = moveAlong(input, -1) || true;
  else if (key === "ArrowRight" && !shiftKey && wholeOrEdge(input, false)) moved = moveAlong(input, 1) || true;
  else if (key === "Tab") moved = moveAlong(input, shiftKey ? -1 : 1);
  else if (key === "F2" && shiftKey) {
    openNote(input);
    moved = true;
  } else if (key === "Escape" && input.value.trim() !== input.dataset.original) {
    input.value = input.dataset.original;
    input.select();
    touched(input.closest(CELL));
    moved = true;
  }
  if (moved) event.preventDefault();
});

// In a note, Escape closes it and goes back to its cell (before app.js would focus the note's button).
document.addEventListener(
  "keydown",
  (event) => {
    if (event.key !== "Escape" || !event.target.matches?.("details.cell-note textarea")) return;
    const td = event.target.closest(CELL);
    noteOf(td).open = false;
    event.stopPropagation();
    focusCell(td.querySelector("input"));
  },
  true,
);

// Opening a note puts the cursor in it, and brings all of it into view (clear of the sticky save bar).
document.addEventListener(
  "toggle",
  (event) => {
    const note = event.target;
    if (!note.matches?.("details.cell-note") || !note.open) return;
    note.querySelector("textarea").focus({ preventScroll: true });
    note.querySelector(".cell-note-panel").scrollIntoView({ block: "nearest" });
  },
  true,
);

// A block copied from a spreadsheet (tab-separated rows) fills the cells from this one to the right and down.
document.addEventListener("paste", (event) => {
  const input = event.target;
  if (!input.matches?.(CELL_INPUT)) return;
  const text = (event.clipboardData?.getData("text/plain") ?? "").replace(/\r\n?/g, "\n").replace(/\n+$/, "");
  if (!/[\t\n]/.test(text)) return; // one value: the browser pastes it like any text
  event.preventDefault();
  const grid = gridOf(input);
  const { rows, row, column } = locate(grid, input);
  let placed = 0;
  let outside = 0;
  text.split("\n").forEach((line, down) => {
    line.split("\t").forEach((value, across) => {
      const target = rows[row + down]?.[column + across];
      if (!target) {
        if (value.trim()) outside += 1;
        return;
      }
      target.value = value.trim();
      placed += 1;
      touched(target.closest(CELL));
    });
  });
  document.getElementById("messages")?.replaceChildren();
  window.Fourfold?.showMessage(say(grid, "pasted", placed), "info");
  if (outside) window.Fourfold?.showMessage(say(grid, "pastedOver", outside), "warning");
  input.select();
});

// A save is under way: previews asked for before it would describe the grid it replaces, and the messages
// of earlier saves and pastes make way for its own.
document.addEventListener("htmx:beforeRequest", (event) => {
  if (!event.detail.elt.matches?.(GRID)) return;
  window.clearTimeout(checkTimer);
  generation += 1;
  document.getElementById("messages")?.replaceChildren();
});

// The grid arrived (the page, or a save's answer): count what is unsaved, and go to the first cell to correct.
document.addEventListener("htmx:load", (event) => {
  const grid = event.detail.elt.matches?.(GRID) ? event.detail.elt : event.detail.elt.querySelector?.(GRID);
  if (!grid) return;
  showPending(grid);
  focusCell(grid.querySelector("td.has-error input, td.needs-note input"));
});

// Fourfold's JavaScript for every page: htmx, the CSRF token on its requests, and a few shared behaviours.
//
// Pages work without it (forms post, links navigate); it makes them quicker and tidier. Behaviours are
// declared in the markup with data- attributes and found by event delegation, so content that htmx swaps
// in later behaves like the page it arrived in, with nothing to re-initialise.
import htmx from "htmx.org";

// The strategy map's dragging and PNG download: delegated events, so inert on other pages (about 1.5 kB).
import "./strategy-map.js";

window.htmx = htmx;

// The stylesheet styles indicators itself (components/htmx.css): no inline <style>, which a strict
// Content-Security-Policy would refuse.
htmx.config.includeIndicatorStyles = false;
// A 400 or 422 answer carries a form with its errors next to the fields: swap it in like a success.
// Other errors are not swapped; the "htmx:responseError" handler below says what went wrong.
htmx.config.responseHandling = [
  { code: "204", swap: false },
  { code: "[23]..", swap: true },
  { code: "400|422", swap: true },
  { code: "[45]..", swap: false, error: true },
];

// For page scripts: Fourfold.showMessage("Saved.", "success").
window.Fourfold = { showMessage };

const UNSAFE_METHODS = new Set(["post", "put", "patch", "delete"]);

/** Django's CSRF token: from its cookie when readable, else from the page's <meta name="csrf-token">. */
function csrfToken() {
  const cookie = document.cookie.split("; ").find((item) => item.startsWith("csrftoken="));
  if (cookie) return decodeURIComponent(cookie.slice("csrftoken=".length));
  return document.querySelector('meta[name="csrf-token"]')?.content ?? "";
}

document.addEventListener("htmx:configRequest", (event) => {
  if (UNSAFE_METHODS.has(event.detail.verb)) event.detail.headers["X-CSRFToken"] = csrfToken();
});

/** Show a message in the page's message area (a polite live region, so screen readers announce it). */
function showMessage(text, level = "info") {
  const area = document.getElementById("messages");
  if (!area) return;
  const item = document.createElement("li");
  item.className = `message ${level}`;
  item.textContent = text;
  area.append(item);
}

// A server can send a message with an htmx answer: HX-Trigger: {"fourfold:message": {"text": …, "level": …}}
// (fourfold.ui.htmx.with_message does it).
document.addEventListener("fourfold:message", (event) => showMessage(event.detail.text, event.detail.level));

// The wording of these messages comes translated from the page: data-* attributes of #messages (base.html).
function say(kind) {
  return document.getElementById("messages")?.dataset[kind] ?? "";
}

document.addEventListener("htmx:responseError", (event) => {
  showMessage(say(event.detail.xhr.status === 403 ? "forbidden" : "failed"), "error");
});

document.addEventListener("htmx:sendError", () => showMessage(say("offline"), "error"));

// Disclosure: <button data-toggle="ID" aria-controls="ID" aria-expanded="false"> shows and hides #ID,
// e.g. the navigation on a phone. The target carries data-collapsible so that CSS knows it starts hidden.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-toggle]");
  if (!button) return;
  const target = document.getElementById(button.dataset.toggle);
  if (!target) return;
  const open = button.getAttribute("aria-expanded") !== "true";
  button.setAttribute("aria-expanded", String(open));
  target.classList.toggle("is-open", open);
});

// <button data-toggle-all="true" data-toggle-scope="ID"> opens (or with "false" closes) every disclosure of
// the kind above inside #ID at once, e.g. "Expand all" on the scorecard's tree. Disclosures that start open
// carry is-open on their target and aria-expanded="true" on their button.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-toggle-all]");
  if (!button) return;
  const open = button.dataset.toggleAll === "true";
  const scope = document.getElementById(button.dataset.toggleScope) ?? document;
  for (const toggle of scope.querySelectorAll("[data-toggle]")) {
    toggle.setAttribute("aria-expanded", String(open));
    document.getElementById(toggle.dataset.toggle)?.classList.toggle("is-open", open);
  }
});

// Menus (<details data-menu>) and popovers (<details data-popover>, e.g. a score's "Why?") open without
// JavaScript; with it, one at a time, and they close on Escape (focus back on their summary) or a click
// elsewhere.
const DISMISSABLE = "details[data-menu], details[data-popover]";

function closeMenus(except) {
  for (const menu of document.querySelectorAll("details[data-menu][open], details[data-popover][open]")) {
    if (menu !== except) menu.open = false;
  }
}

document.addEventListener("click", (event) => {
  closeMenus(event.target.closest(DISMISSABLE));
});

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const menu = event.target.closest?.(DISMISSABLE);
  if (menu?.open) {
    menu.open = false;
    menu.querySelector("summary")?.focus();
  }
});

// data-confirm="Remove Ana from this scorecard?" on a form, or on one of its buttons, asks before
// submitting. htmx requests use hx-confirm instead, which htmx handles.
document.addEventListener(
  "submit",
  (event) => {
    const question = event.submitter?.dataset.confirm || event.target.dataset.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
  },
  true,
);

// data-autosubmit on a field submits its form when it changes (the form's own button stays for
// keyboard and no-JavaScript use).
document.addEventListener("change", (event) => {
  if (event.target.matches?.("[data-autosubmit]")) event.target.form?.requestSubmit();
});

// A table wider than its card scrolls sideways (.table-wrap); keyboard users must be able to scroll it too,
// so a wrapper that scrolls becomes focusable, and one that fits does not add a stop to the tab order.
const scrollers = new ResizeObserver((entries) => {
  for (const { target } of entries) {
    if (target.scrollWidth > target.clientWidth + 1) target.tabIndex = 0;
    else target.removeAttribute("tabindex");
  }
});

function watchTables(root) {
  for (const wrapper of root.querySelectorAll(".table-wrap")) scrollers.observe(wrapper);
}

// htmx fires htmx:load for the whole page once it starts, then for every piece of content it swaps in.
document.addEventListener("htmx:load", (event) => watchTables(event.detail.elt));

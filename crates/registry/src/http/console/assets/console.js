// Herald console: the little script the pages need. Times arrive as
// <time datetime="RFC 3339"> in UTC and are shown in the viewer's zone.
"use strict";

function localTimes() {
  for (const el of document.querySelectorAll("time[datetime]")) {
    const when = new Date(el.getAttribute("datetime"));
    if (!Number.isNaN(when.getTime())) {
      el.title = el.getAttribute("datetime");
      el.textContent = when.toLocaleString(undefined, {
        year: "numeric", month: "short", day: "numeric",
        hour: "2-digit", minute: "2-digit", second: "2-digit",
      });
    }
  }
}

// A form with data-busy shows that it is waiting (a test send may take
// seconds) and cannot be sent twice.
function busyForms() {
  for (const form of document.querySelectorAll("form[data-busy]")) {
    form.addEventListener("submit", () => {
      for (const button of form.querySelectorAll("button[type=submit]")) {
        button.disabled = true;
        button.textContent = form.getAttribute("data-busy");
      }
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  localTimes();
  busyForms();
});

// What the pages ask for by data- attributes. Kept here, not in inline handlers, so that
// the Content-Security-Policy can refuse every inline script (common/security.py).
"use strict";

// <form data-confirm="…">: ask before sending.
document.addEventListener("submit", (event) => {
  const message = event.target.dataset && event.target.dataset.confirm;
  if (message && !window.confirm(message)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);

document.addEventListener("change", (event) => {
  const el = event.target;
  // A search box asks as one types (hx-trigger "input changed delay"); the "change" it
  // fires on leaving the box would ask again.
  if (el.matches("form[hx-get] input[name=q]")) {
    event.stopPropagation();
    return;
  }
  // <select data-autosubmit>: send the form on choosing.
  if (el.matches("[data-autosubmit]") && el.form) el.form.submit();
}, true);

document.addEventListener("click", (event) => {
  // <a data-export-form="id" data-base="url">: export what the filter form shows now.
  const link = event.target.closest("a[data-export-form]");
  if (link) {
    const form = document.getElementById(link.dataset.exportForm);
    if (form) {
      const query = new URLSearchParams(new FormData(form)).toString();
      const base = link.dataset.base;
      link.href = base + (base.includes("?") ? "&" : "?") + query;
    }
    return;
  }
  // <a data-back>: back to the previous page (its href is where to go without one).
  const back = event.target.closest("a[data-back]");
  if (back && window.history.length > 1) {
    event.preventDefault();
    window.history.back();
  }
});

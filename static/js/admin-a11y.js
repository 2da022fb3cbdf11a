/* Names for the widgets Django's admin scripts build (issue 15, axe-core). No inline script:
   the staff pages run under a strict CSP.
   - Autocomplete boxes (Select2) are a <span role="combobox"> the field's <label> does not
     reach: the span is labelled by it.
   - The filter boxes of a two-list selector put aria-label on a plain <span>, which has no role
     that takes a name: it is an image with a name. */
(function () {
  "use strict";

  function labelFor(id) {
    var label = document.querySelector('label[for="' + id + '"]');
    if (label && !label.id) {
      label.id = id + "_label";
    }
    return label;
  }

  function nameWidgets(root) {
    root.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
      // A row of a table of inlines has no <label>: the select carries an aria-label
      // (TrackedAdmin names each inline box after its column).
      var label = labelFor(select.id);
      var name = label
        ? label.textContent.replace(/:\s*$/, "").trim()
        : select.getAttribute("aria-label");
      var box = select.parentNode.querySelector(".select2-selection");
      if (!name || !box) {
        return;
      }
      if (label) {
        box.setAttribute("aria-labelledby", label.id);
      } else {
        box.removeAttribute("aria-labelledby");
        box.setAttribute("aria-label", name);
      }
      var shown = box.querySelector(".select2-selection__rendered");
      if (shown) {
        shown.setAttribute("aria-label", name);
      }
    });
    root.querySelectorAll(".help-tooltip[aria-label]:not([role])").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
  }

  function nameAll() {
    nameWidgets(document);
  }
  // After the admin's own ready handler has built the boxes (this script is deferred, so its
  // handler comes after autocomplete.js's), and again once everything has loaded.
  if (window.django && window.django.jQuery) {
    window.django.jQuery(nameAll);
  }
  if (document.readyState === "complete") {
    nameAll();
  } else {
    window.addEventListener("load", nameAll);
  }
  document.addEventListener("formset:added", function (event) {
    window.setTimeout(function () {
      nameWidgets(event.target);
    }, 0);
  });
})();

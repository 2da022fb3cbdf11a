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
      var label = labelFor(select.id);
      var box = select.parentNode.querySelector(".select2-selection");
      if (!label || !box) {
        return;
      }
      box.setAttribute("aria-labelledby", label.id);
      var shown = box.querySelector(".select2-selection__rendered");
      if (shown) {
        shown.setAttribute("aria-label", label.textContent.replace(/:\s*$/, "").trim());
      }
    });
    root.querySelectorAll(".help-tooltip[aria-label]:not([role])").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
  }

  window.addEventListener("load", function () {
    nameWidgets(document);
  });
  document.addEventListener("formset:added", function (event) {
    window.setTimeout(function () {
      nameWidgets(event.target);
    }, 0);
  });
})();

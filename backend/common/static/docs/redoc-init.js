"use strict";
// Starts ReDoc from data attributes, so the page needs no inline script (CSP script-src 'self').
(function () {
  const container = document.getElementById("redoc-container");
  const settings = JSON.parse(container.dataset.settings || "{}");
  Redoc.init(container.dataset.schemaUrl, settings, container);
})();

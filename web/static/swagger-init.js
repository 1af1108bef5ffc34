// Starts Swagger UI on the API's own OpenAPI document. A file rather than an inline
// script, so the docs page runs under a Content-Security-Policy of 'self' only.
window.onload = function () {
  var container = document.getElementById("swagger-ui-container");
  window.ui = SwaggerUIBundle({
    url: container.getAttribute("data-spec-url"),
    dom_id: "#swagger-ui-container",
  });
};

// Mounts Scalar's API reference with the settings the server put on the page as JSON. A file of its
// own, not an inline script, so the page's Content-Security-Policy can allow this origin's scripts only.
(() => {
  const config = JSON.parse(document.getElementById('docs-config').textContent);
  window.Scalar.createApiReference('#tally-reference', config);
})();

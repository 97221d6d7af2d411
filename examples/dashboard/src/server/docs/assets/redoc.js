// Mounts Redoc with Tally's colours: the server puts the spec URL, the options and a light and a dark
// theme on the page as JSON; the theme follows the stored choice of the reference (see theme.js), else
// the system's colour scheme, and Redoc is mounted again when the system's scheme changes.
(() => {
  const config = JSON.parse(document.getElementById('docs-config').textContent);
  const container = document.getElementById('redoc');
  const query = window.matchMedia('(prefers-color-scheme: dark)');
  const isDark = () => {
    const chosen = document.documentElement.dataset.theme;
    return chosen ? chosen === 'dark' : query.matches;
  };
  const mount = () => {
    window.Redoc.init(config.specUrl, { ...config.options, theme: isDark() ? config.themes.dark : config.themes.light }, container);
  };
  mount();
  query.addEventListener('change', () => {
    if (!document.documentElement.dataset.theme) mount();
  });
})();

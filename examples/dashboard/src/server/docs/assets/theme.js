// Keeps <html data-theme> (which Tally's --tally-* colours follow) in step with the reference's own
// light/dark choice: Scalar stores it as `colorMode` in localStorage and marks <body> with
// .light-mode or .dark-mode. Guides and Redoc read the same stored choice, so the portal is one theme.
(() => {
  const root = document.documentElement;
  const apply = (mode) => {
    if (mode === 'dark' || mode === 'light') root.dataset.theme = mode;
    else delete root.dataset.theme;
  };
  try {
    apply(window.localStorage.getItem('colorMode'));
  } catch {
    // Storage may be off (private mode, policies): the system's colour scheme decides.
  }
  const follow = () => {
    if (document.body.classList.contains('dark-mode')) apply('dark');
    else if (document.body.classList.contains('light-mode')) apply('light');
  };
  const start = () => {
    follow();
    new MutationObserver(follow).observe(document.body, { attributes: true, attributeFilter: ['class'] });
  };
  if (document.body) start();
  else document.addEventListener('DOMContentLoaded', start, { once: true });
})();

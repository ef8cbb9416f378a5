/** Paper panel (runs in the webview). */
const app = document.getElementById('app');
if (app) app.textContent = 'Loading paper…';

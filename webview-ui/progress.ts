/** Progress view (runs in the webview). */
const app = document.getElementById('app');
if (app) {
  const p = document.createElement('p');
  p.textContent = 'No session yet. Run "KLong: Reproduce this paper" on a PDF to start one.';
  app.append(p);
}

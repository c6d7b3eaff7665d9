// static/csv_job.js: on a running job's page (admin/csv_job.html), follow GET /api/v1/jobs/{id} and move the progress bar; reload for the final report. Without JavaScript the page refreshes itself instead.
(function () {
  'use strict';
  var bar = document.getElementById('job-progress');
  if (!bar || !bar.getAttribute('data-job')) return;
  var id = bar.getAttribute('data-job');
  var state = bar.getAttribute('data-state');
  if (state !== 'queued' && state !== 'running') return;
  function text(elId, v) {
    var e = document.getElementById(elId);
    if (e) e.textContent = String(v);
  }
  function tick() {
    fetch('/api/v1/jobs/' + encodeURIComponent(id), {
      credentials: 'same-origin',
      headers: { Accept: 'application/json' }
    }).then(function (r) {
      if (!r.ok) throw new Error('status ' + r.status);
      return r.json();
    }).then(function (j) {
      if (j.total > 0) {
        bar.max = j.total;
        bar.value = j.done;
        text('job-done', j.done);
        text('job-total', j.total);
        text('job-percent', Math.floor(j.done * 100 / j.total));
      }
      bar.setAttribute('data-state', j.state);
      if (j.state === 'done' || j.state === 'failed') {
        window.location.reload();
      } else {
        window.setTimeout(tick, 400);
      }
    }).catch(function () {
      window.setTimeout(tick, 2000);
    });
  }
  window.setTimeout(tick, 400);
})();

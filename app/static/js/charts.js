/* Flowdesk daily charts: draws every <canvas class="daily-chart" data-chart="{labels, series}">
   as stacked bars per status with the locally served Chart.js. The same numbers are on the
   page as a table ("Chart data as a table") for keyboard and screen-reader users. */
(function () {
  'use strict';
  var COLOURS = { OK: '#198754', WARN: '#fd7e14', ERROR: '#dc3545' };

  function draw(canvas) {
    var data;
    try {
      data = JSON.parse(canvas.getAttribute('data-chart'));
    } catch (e) {
      return;
    }
    if (typeof Chart === 'undefined') {
      return;
    }
    new Chart(canvas, {
      type: 'bar',
      data: {
        labels: data.labels,
        datasets: data.series.map(function (s) {
          return { label: s.status, data: s.counts, backgroundColor: COLOURS[s.status] || '#6c757d', stack: 'all' };
        })
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: 'index', intersect: false },
        scales: {
          x: { stacked: true, ticks: { maxRotation: 0, autoSkip: true } },
          y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } }
        },
        plugins: { legend: { position: 'bottom' } }
      }
    });
  }

  document.querySelectorAll('canvas.daily-chart').forEach(draw);
})();

/* Response filter form: typing a date switches the time range to "Custom dates", choosing a
   preset clears the dates, so the form never holds both (the server refuses that mix with a
   message when JavaScript is off). */
(function () {
  'use strict';
  var range = document.getElementById('f-range');
  var dates = [document.getElementById('f-from'), document.getElementById('f-to')];
  if (!range || !dates[0] || !dates[1]) {
    return;
  }
  dates.forEach(function (input) {
    input.addEventListener('change', function () {
      if (input.value) {
        range.value = 'custom';
      }
    });
  });
  range.addEventListener('change', function () {
    if (range.value !== 'custom') {
      dates.forEach(function (input) { input.value = ''; });
    }
  });
})();

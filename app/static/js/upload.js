// Upload page: send the file with XMLHttpRequest so the browser can show upload progress,
// then show the page the server answers with (the batch page, or the form with its errors).
(function () {
  'use strict';
  var form = document.getElementById('upload-form');
  if (!form || !window.FormData || !window.XMLHttpRequest) { return; }
  var box = document.getElementById('upload-progress');
  var bar = document.getElementById('upload-progress-bar');
  var label = document.getElementById('upload-progress-text');
  var button = document.getElementById('upload-submit');
  var maxBytes = parseInt(form.getAttribute('data-max-bytes'), 10) || 0;

  function megabytes(bytes) { return (bytes / 1048576).toFixed(1) + ' MB'; }

  form.addEventListener('submit', function (event) {
    var input = form.querySelector('input[type=file]');
    var file = input && input.files && input.files[0];
    if (!file) { return; }  // let the server say a file is required
    if (maxBytes && file.size > maxBytes) {
      event.preventDefault();
      box.hidden = false;
      label.textContent = 'This file is ' + megabytes(file.size) + '; the limit here is ' +
        megabytes(maxBytes) + '. Split it, or load it with the command line (flask load).';
      return;
    }
    event.preventDefault();
    var request = new XMLHttpRequest();
    request.open('POST', form.action);
    request.upload.addEventListener('progress', function (e) {
      if (e.lengthComputable) {
        bar.value = Math.round(100 * e.loaded / e.total);
        label.textContent = 'Uploading ' + megabytes(e.loaded) + ' of ' + megabytes(e.total) + '…';
      }
    });
    request.upload.addEventListener('load', function () {
      bar.removeAttribute('value');  // indeterminate while the server checks the file
      label.textContent = 'Uploaded; checking every row…';
    });
    request.addEventListener('load', function () {
      // Show the page already received (the batch page after the redirect, or the form with
      // its errors): requesting it again would lose its one-time message.
      if (request.responseURL && window.history && window.history.replaceState) {
        window.history.replaceState(null, '', request.responseURL);
      }
      document.open();
      document.write(request.responseText);
      document.close();
    });
    request.addEventListener('error', function () {
      label.textContent = 'The upload failed (network error). Try again.';
      button.disabled = false;
    });
    box.hidden = false;
    button.disabled = true;
    request.send(new FormData(form));
  });
}());

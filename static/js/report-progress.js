/* Report page: poll the small JSON status endpoint and move the <progress> bar until the report is
 * ready, then reveal the download link. Without JavaScript the page shows the state at load time and a
 * refresh link. No library, no CDN. */
(function () {
  "use strict";

  var box = document.getElementById("report-progress");
  if (!box || !box.dataset.statusUrl || box.dataset.finished === "true") { return; }
  var bar = document.getElementById("report-progress-bar");
  var statusLine = document.getElementById("report-status");
  var delay = 1000;

  function setField(container, name, value) {
    var node = container.querySelector("[data-field=" + name + "]");
    if (node) { node.textContent = value; }
  }

  function show(id, visible) {
    var node = document.getElementById(id);
    if (node) { node.hidden = !visible; }
    return node;
  }

  function update(data) {
    bar.value = data.progress;
    bar.textContent = data.progress + " %";
    setField(statusLine, "label", data.label);
    setField(statusLine, "progress", data.progress);
    if (data.status === "done") {
      var download = document.getElementById("report-download");
      if (download && data.download_url) { download.href = data.download_url; }
      var csv = document.getElementById("report-csv");
      if (csv && data.csv_url) { csv.href = data.csv_url; }
      show("report-links", true);
      var hash = show("report-hash", Boolean(data.sha256));
      if (hash) { setField(hash, "sha256", data.sha256); }
    }
    if (data.status === "failed") {
      var error = show("report-error", true);
      if (error) { error.textContent = data.error; }
    }
    return data.finished;
  }

  function poll() {
    fetch(box.dataset.statusUrl, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        if (!update(data)) {
          delay = Math.min(delay * 1.2, 5000);
          window.setTimeout(poll, delay);
        }
      })
      .catch(function () {
        delay = Math.min(delay * 2, 15000);
        window.setTimeout(poll, delay);
      });
  }

  window.setTimeout(poll, 500);
}());

// "Use my location" for /near: only where the browser may give a position (https, or this
// machine). Without it the district list does the same job, so the page never needs this.
(function () {
  var button = document.getElementById("locate");
  if (!button || !window.isSecureContext || !navigator.geolocation) return;
  var form = document.getElementById("find");
  var status = document.getElementById("locate-status");
  button.hidden = false;
  button.addEventListener("click", function () {
    status.textContent = button.getAttribute("data-locating");
    navigator.geolocation.getCurrentPosition(function (where) {
      form.elements.lat.value = where.coords.latitude.toFixed(6);
      form.elements.lon.value = where.coords.longitude.toFixed(6);
      form.elements.district.value = "";
      form.submit();
    }, function () {
      status.textContent = button.getAttribute("data-failed");
    }, {enableHighAccuracy: false, timeout: 15000, maximumAge: 60000});
  });
})();

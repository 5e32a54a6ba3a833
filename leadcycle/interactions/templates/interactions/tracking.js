/* Leadcycle website tracking: reports each page view with an anonymous visitor id kept in
   this site's localStorage. Served by Leadcycle; no third-party code. */
(function () {
  "use strict";
  var endpoint = "{{ endpoint|escapejs }}";
  var storageKey = "lc_vid";

  function newId() {
    var bytes = new Uint8Array(18);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function visitorId() {
    try {
      var id = window.localStorage.getItem(storageKey);
      if (!id || !/^[A-Za-z0-9_-]{8,64}$/.test(id)) {
        id = newId();
        window.localStorage.setItem(storageKey, id);
      }
      return id;
    } catch (e) {
      return "";
    }
  }

  var leadcycle = (window.leadcycle = window.leadcycle || {});
  leadcycle.visitorId = visitorId();
  leadcycle.track = function () {
    var body = JSON.stringify({
      url: window.location.href,
      title: document.title,
      referrer: document.referrer,
      visitor_id: leadcycle.visitorId
    });
    if (navigator.sendBeacon && navigator.sendBeacon(endpoint, new Blob([body], { type: "text/plain" }))) {
      return;
    }
    window.fetch(endpoint, { method: "POST", body: body, headers: { "Content-Type": "text/plain" }, keepalive: true });
  };
  leadcycle.track();
})();

/* SockJS client, trimmed for the fixture */
var SockJS = (function() {
  function SockJS(url) {
    this.url = url;
    this.readyState = SockJS.CONNECTING;
  }
  SockJS.CONNECTING = 0;
  SockJS.OPEN = 1;
  SockJS.version = "0.3.4";
  return SockJS;
})();


;(function() {
  function Pusher(app_key, options) {
    this.key = app_key;
    this.options = options || {};
    this.connection = new Pusher.Connection(this.key);
  }
  Pusher.VERSION = '<VERSION>';
  Pusher.dependency_suffix = '<DEPENDENCY_SUFFIX>';
  this.Pusher = Pusher;
}).call(this);

;(function() {
  function DependencyLoader(options) {
    this.options = options;
    this.loading = {};
  }
  DependencyLoader.prototype.getRoot = function(options) {
    var cdn = (options && options.encrypted) ? this.options.cdn_https : this.options.cdn_http;
    return cdn.replace(/\/*$/, "") + "/" + this.options.version;
  };
  DependencyLoader.prototype.getPath = function(name, options) {
    return this.getRoot(options) + '/' + name + this.options.suffix + '.js';
  };
  function Connection(key) {
    this.key = key;
    this.state = "initialized";
  }
  Pusher.Connection = Connection;
  Pusher.DependencyLoader = DependencyLoader;
  Pusher.Dependencies = new DependencyLoader({
    cdn_http: '<CDN_HTTP>',
    cdn_https: '<CDN_HTTPS>',
    version: Pusher.VERSION,
    suffix: Pusher.dependency_suffix
  });
}).call(this);

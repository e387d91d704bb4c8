/*!
 * Pusher JavaScript Library v2.2.3
 * http://pusherapp.com/
 *
 * Copyright 2013, Pusher
 * Released under the MIT licence.
 */

;(function() {
  function Pusher(app_key, options) {
    this.key = app_key;
    this.options = options || {};
    this.connection = new Pusher.Connection(this.key);
  }
  Pusher.VERSION = '2.2.3';
  Pusher.dependency_suffix = '';
  this.Pusher = Pusher;
}).call(this);

;(function() {
  Pusher.Util = {
    extend: function extend(target, source) {
      for (var property in source) {
        if (Object.prototype.hasOwnProperty.call(source, property)) {
          target[property] = source[property];
        }
      }
      return target;
    }
  };
}).call(this);

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
    cdn_http: 'http://js.example.com/',
    cdn_https: 'https://js.example.com/',
    version: Pusher.VERSION,
    suffix: Pusher.dependency_suffix
  });
}).call(this);


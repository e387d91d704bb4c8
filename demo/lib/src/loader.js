(function (Demo) {
  // A seed-style dependency loader: <cdn>/<version>/<name><suffix>.js
  Demo.DependencyLoader = function (options) {
    this.options = options;
  };
  Demo.DependencyLoader.prototype.getRoot = function (encrypted) {
    var cdn = encrypted ? this.options.cdn_https : this.options.cdn_http;
    return cdn.replace(/\/*$/, "") + "/" + this.options.version;
  };
  Demo.DependencyLoader.prototype.getPath = function (name, encrypted) {
    return this.getRoot(encrypted) + "/" + name + this.options.suffix + ".js";
  };
})(this.Demo);

/*! cdnserve DependencyLoader: the seed's API, with integrity */
(function (root) {
  "use strict";

  // Integrity manifests, one request per CDN base, library and version,
  // shared by every loader on the page. Only successes are kept.
  var manifests = {};

  function trim(url) {
    return String(url).replace(/\/+$/, "");
  }

  function DependencyLoader(options) {
    this.options = options || {};
    this.loading = {}; // name -> callbacks waiting on its one tag
    this.loaded = {};  // name -> true once its script ran
  }

  // The base URLs to try, in order: the chosen CDN, then the mirrors.
  DependencyLoader.prototype.bases = function (options) {
    var o = this.options;
    var first = (options && options.encrypted) ? o.cdn_https : o.cdn_http;
    return [first].concat(o.mirrors || []);
  };

  DependencyLoader.prototype.rootOf = function (base) {
    var lib = this.options.library ? "/" + this.options.library : "";
    return trim(base) + lib + "/" + this.options.version;
  };

  // getRoot and getPath are the seed's: <cdn>[/<library>]/<version>, and
  // <root>/<name><suffix>.js.
  DependencyLoader.prototype.getRoot = function (options) {
    return this.rootOf(this.bases(options)[0]);
  };

  DependencyLoader.prototype.file = function (name) {
    return name + (this.options.suffix || "") + ".js";
  };

  DependencyLoader.prototype.getPath = function (name, options) {
    return this.getRoot(options) + "/" + this.file(name);
  };

  // sign lets a page sign each URL (for private libraries) before use.
  DependencyLoader.prototype.signed = function (url) {
    return this.options.sign ? this.options.sign(url) : url;
  };

  // manifest fetches /-/meta/[<library>/]<version> from a base, once, and
  // calls back with a map of file -> integrity.
  DependencyLoader.prototype.manifest = function (base, callback) {
    var lib = this.options.library ? this.options.library + "/" : "";
    var url = trim(base) + "/-/meta/" + lib + this.options.version;
    var entry = manifests[url];
    if (entry && entry.files) {
      return callback(null, entry.files);
    }
    if (entry) {
      entry.waiting.push(callback);
      return;
    }
    entry = manifests[url] = { waiting: [callback] };
    var done = function (err, files) {
      var waiting = entry.waiting;
      entry.waiting = [];
      if (err) {
        delete manifests[url]; // a failure is not kept: the next load asks again
      } else {
        entry.files = files;
      }
      for (var i = 0; i < waiting.length; i++) {
        waiting[i](err, files);
      }
    };
    var xhr = new XMLHttpRequest();
    xhr.open("GET", this.signed(url), true);
    xhr.timeout = this.options.timeout || 10000;
    xhr.onload = function () {
      if (xhr.status !== 200) {
        return done(new Error("cdnserve: " + url + " answered " + xhr.status));
      }
      var files = {};
      try {
        var doc = JSON.parse(xhr.responseText);
        for (var i = 0; i < doc.files.length; i++) {
          files[doc.files[i].path] = doc.files[i].integrity;
        }
      } catch (e) {
        return done(new Error("cdnserve: " + url + " is not an integrity manifest"));
      }
      done(null, files);
    };
    xhr.onerror = function () { done(new Error("cdnserve: could not fetch " + url)); };
    xhr.ontimeout = function () { done(new Error("cdnserve: " + url + " timed out")); };
    xhr.send();
  };

  // inject adds one script tag with its integrity, and calls back once.
  DependencyLoader.prototype.inject = function (url, integrity, callback) {
    var script = document.createElement("script");
    var finished = false;
    var timer;
    var finish = function (err) {
      if (finished) {
        return;
      }
      finished = true;
      clearTimeout(timer);
      if (err && script.parentNode) {
        script.parentNode.removeChild(script); // so a retry adds a fresh tag
      }
      callback(err);
    };
    script.src = this.signed(url);
    script.integrity = integrity;
    script.crossOrigin = "anonymous";
    script.async = true;
    script.onload = function () { finish(null); };
    script.onerror = function () {
      finish(new Error("cdnserve: " + url + " failed to load or failed its integrity check"));
    };
    timer = setTimeout(function () {
      finish(new Error("cdnserve: " + url + " timed out"));
    }, this.options.timeout || 10000);
    (document.head || document.getElementsByTagName("head")[0]).appendChild(script);
  };

  // fetchFrom tries the bases in turn: the manifest, then the script.
  DependencyLoader.prototype.fetchFrom = function (bases, i, name, callback) {
    var self = this;
    var file = this.file(name);
    var base = bases[i];
    var next = function (err) {
      if (i + 1 < bases.length) {
        return self.fetchFrom(bases, i + 1, name, callback);
      }
      callback(err);
    };
    this.manifest(base, function (err, files) {
      if (err) {
        return next(err);
      }
      if (!files[file]) {
        return next(new Error("cdnserve: version " + self.options.version + " has no file " + file));
      }
      self.inject(self.rootOf(base) + "/" + file, files[file], function (err) {
        return err ? next(err) : callback(null);
      });
    });
  };

  // load injects <name><suffix>.js once, checked against its integrity,
  // and calls back with an error or null. Concurrent loads of one name
  // share one tag; a failure is not remembered, so the next load retries.
  DependencyLoader.prototype.load = function (name, options, callback) {
    var self = this;
    if (typeof options === "function") {
      callback = options;
      options = {};
    }
    callback = callback || function () {};
    if (this.loaded[name]) {
      return setTimeout(function () { callback(null); }, 0);
    }
    if (this.loading[name]) {
      this.loading[name].push(callback);
      return;
    }
    this.loading[name] = [callback];
    this.fetchFrom(this.bases(options), 0, name, function (err) {
      var waiting = self.loading[name];
      delete self.loading[name];
      if (!err) {
        self.loaded[name] = true;
      }
      for (var i = 0; i < waiting.length; i++) {
        waiting[i](err || null);
      }
    });
  };

  // loadAsync is load as a Promise, where the browser has them.
  DependencyLoader.prototype.loadAsync = function (name, options) {
    var self = this;
    return new Promise(function (resolve, reject) {
      self.load(name, options, function (err) {
        return err ? reject(err) : resolve();
      });
    });
  };

  root.DependencyLoader = DependencyLoader;
})(this);

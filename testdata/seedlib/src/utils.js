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

(function (root) {
  var Demo = {
    VERSION: "<VERSION>",
    suffix: "<DEPENDENCY_SUFFIX>",
    greet: function (who) {
      return "Hello, " + who + ", from cdnserve demo " + Demo.VERSION;
    }
  };
  root.Demo = Demo;
})(this);

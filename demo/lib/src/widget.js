(function (root) {
  root.DemoWidget = {
    version: "<VERSION>",
    render: function (el) {
      el.className = "cdnserve-demo";
      el.textContent = root.Demo ? root.Demo.greet("widget") : "widget " + this.version;
    }
  };
})(this);

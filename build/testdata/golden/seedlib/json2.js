var JSON2 = JSON2 || {};
(function () {
  JSON2.stringify = function (value) {
    return typeof value === "string" ? '"' + value + '"' : String(value);
  };
}());


// The worklist's one enhancement (docs/worklist.md): a "select all" box for the bulk actions. Without script the
// page works the same; each row is ticked by hand.
document.addEventListener("DOMContentLoaded", function () {
  var all = document.getElementById("select-all");
  if (!all) { return; }
  var picks = document.querySelectorAll("input.pick");
  all.hidden = false;
  all.addEventListener("change", function () {
    picks.forEach(function (box) { box.checked = all.checked; });
  });
});

// Sortable tables: a click on a header sorts its table by that column (again: the other way).
// Numbers sort as numbers, n/a last. `#sort=TABLEID:COL` in the address sorts on load (same code path).
function mbSort(table, col, desc) {
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  function key(r) {
    var c = r.cells[col]; var v = c.getAttribute('data-value');
    if (v === null) v = c.textContent.trim();
    var n = parseFloat(v);
    return isNaN(n) ? v : n;
  }
  rows.sort(function (a, b) {
    var x = key(a), y = key(b);
    if (typeof x === 'string' && typeof y === 'number') return 1;
    if (typeof x === 'number' && typeof y === 'string') return -1;
    var r = x < y ? -1 : x > y ? 1 : 0;
    return desc ? -r : r;
  });
  rows.forEach(function (r) { body.appendChild(r); });
  table.setAttribute('data-sorted', col + (desc ? ':desc' : ':asc'));
}
document.addEventListener('DOMContentLoaded', function () {
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.addEventListener('click', function () {
        var desc = table.getAttribute('data-sorted') === col + ':asc';
        mbSort(table, col, desc);
      });
    });
  });
  var m = /sort=([^:&]+):(\d+)(:desc)?/.exec(location.hash);
  if (m) { var t = document.getElementById(m[1]); if (t) t.tHead.rows[0].cells[+m[2]].click(); if (t && m[3]) t.tHead.rows[0].cells[+m[2]].click(); }
});

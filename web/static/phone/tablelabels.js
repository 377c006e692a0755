// Narrow tables (a 400 px Salesforce utility bar) stack each row as a card with every column shown and
// labelled (app.css, `.wf-table` at max-width 480px). The label of a cell is its column's header: this
// module copies it onto each cell as data-label, for every `.wf-table` the workflows put on the page,
// whenever one appears. Header texts are our own labels; cell text is never read or touched.

const TABLES = 'table.wf-table';

/** Give every body cell of `table` the text of its column's header as data-label (kept when already set). */
export function labelCells(table) {
  const heads = [...table.querySelectorAll('thead th')].map((th) => th.textContent.trim());
  for (const row of table.querySelectorAll('tbody tr')) {
    [...row.children].forEach((cell, i) => {
      if (!cell.dataset.label && heads[i]) cell.dataset.label = heads[i];
    });
  }
}

function labelWithin(node) {
  if (!(node instanceof Element)) return;
  if (node.matches(TABLES)) labelCells(node);
  node.querySelectorAll(TABLES).forEach(labelCells);
}

new MutationObserver((mutations) => {
  for (const m of mutations) {
    if (m.target instanceof Element && m.target.closest(TABLES)) labelCells(m.target.closest(TABLES));
    m.addedNodes.forEach(labelWithin);
  }
}).observe(document.body, { childList: true, subtree: true });
labelWithin(document.body);

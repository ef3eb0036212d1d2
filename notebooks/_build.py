"""Writes the notebooks in this folder from the cell sources below (clean: no outputs).

Run ``python notebooks/_build.py`` after editing; tests/test_notebooks.py executes the results.
Keeping the sources here makes review diffs readable (a notebook's JSON is not).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

KERNEL = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}

QUICKSTART = [
    new_markdown_cell(
        "# extend_frames quickstart: invoices in, typed columns out\n\n"
        "This notebook runs offline against the **local Extend emulator** that ships with the "
        "package, on seeded sample invoices. To use the real API, drop the emulator and build "
        "`xf.Client()` from `EXTEND_API_KEY` (see the README).\n\n"
        "We will: start the emulator, create an extractor, extract invoices into a typed "
        "dataframe, look at the failures, and resume a job by rerunning it."
    ),
    new_code_cell(
        "import tempfile\n"
        "from pathlib import Path\n\n"
        "import polars as pl\n\n"
        "import extend_frames as xf\n"
        "from extend_frames.emulator import Emulator\n"
        "from extend_frames.emulator.samples import INVOICE_EXTRACTOR_CONFIG, generate_samples\n\n"
        "work = Path(tempfile.mkdtemp(prefix='xf-quickstart-'))\n"
        "samples = generate_samples(work / 'samples', count=40, seed=1)\n"
        "truth = pl.read_parquet(samples.ground_truth_path)\n"
        "truth.group_by('doc_type').len().sort('doc_type')"
    ),
    new_markdown_cell(
        "Start the emulator (real HTTP on 127.0.0.1, its own thread) and a client for it. "
        "The emulator is not rate limited, so we let the client go fast; against the real API "
        "keep the default (`rate_limits='payg'`) or name your plan."
    ),
    new_code_cell(
        "emu = Emulator().start()\n"
        "client = xf.Client(\n"
        "    api_key=emu.api_key,\n"
        "    base_url=emu.url,\n"
        "    rate_limits=xf.RateLimits(get=2000, write=2000, run=2000),\n"
        ")\n"
        "fast = xf.Polling.fast()  # the emulator finishes instantly: poll every few ms\n"
        "# progress=True (the default) draws a tqdm bar; in Jupyter it needs ipywidgets\n"
        "quiet = {'client': client, 'polling': fast, 'progress': False}\n"
        "extractor = await client.create_processor(\n"
        "    'extractor', name='Invoices', config=INVOICE_EXTRACTOR_CONFIG\n"
        ")\n"
        "print('extractor', extractor['id'])"
    ),
    new_markdown_cell(
        "## Extract\n\n"
        "The input is any dataframe with a column of file references (local paths here; "
        "URLs, `file_...` ids and fsspec URLs work too). With `output=` the results are also "
        "written as Parquet, which makes the job resumable."
    ),
    new_code_cell(
        "files = truth.filter(pl.col('doc_type') == 'invoice').select(\n"
        "    pl.col('path').alias('name'),\n"
        "    (pl.lit(str(samples.directory) + '/') + pl.col('path')).alias('file'),\n"
        ")\n"
        "output = str(work / 'invoices')\n"
        "out = xf.extract(\n"
        "    files, processor=extractor['id'], key='name', output=output,\n"
        "    **quiet,\n"
        ")\n"
        "print(out.xf.summary())"
    ),
    new_markdown_cell(
        "Every input row comes back once, in order, with typed result columns. The `output` "
        "column is a struct whose types come from the extractor's JSON Schema: dates are "
        "`pl.Date`, the total is a currency struct."
    ),
    new_code_cell("out.schema['output']"),
    new_code_cell(
        "invoices = out.filter(pl.col('status') == 'PROCESSED').select(\n"
        "    'name',\n"
        "    pl.col('output').struct.field('invoice_number'),\n"
        "    pl.col('output').struct.field('invoice_date'),\n"
        "    pl.col('output').struct.field('total').struct.field('amount').alias('total'),\n"
        "    pl.col('output').struct.field('total').struct.field('iso_4217_currency_code')\n"
        "    .alias('currency'),\n"
        "    pl.col('output').struct.field('vendor').struct.field('name').alias('vendor'),\n"
        ")\n"
        "invoices.head()"
    ),
    new_markdown_cell(
        "Typed columns mean ordinary dataframe work, e.g. invoices per month and their total:"
    ),
    new_code_cell(
        "invoices.group_by(pl.col('invoice_date').dt.truncate('1y').alias('year')).agg(\n"
        "    pl.len().alias('invoices'), pl.col('total').sum().round(2)\n"
        ").sort('year')"
    ),
    new_markdown_cell(
        "## Failures are rows\n\n"
        "A file Extend cannot read does not raise: its row comes back `FAILED` with a reason."
    ),
    new_code_cell(
        "failed = out.filter(pl.col('status') != 'PROCESSED')\n"
        "failed.select('name', 'status', 'failure_reason', 'failure_message')"
    ),
    new_markdown_cell(
        "## Resume\n\n"
        "Rerunning the same call with the same `output=` continues where the job stopped; "
        "here it had finished, so nothing is sent again and the results are read back from "
        "Parquet. (After a crash, finished batches are read back and only the rest runs.)"
    ),
    new_code_cell(
        "sent_before = emu.stats()['inputs_submitted']\n"
        "again = xf.extract(\n"
        "    files, processor=extractor['id'], key='name', output=output,\n"
        "    **quiet,\n"
        ")\n"
        "sent_after = emu.stats()['inputs_submitted']\n"
        "print(f'documents sent: first run {sent_before}, rerun {sent_after - sent_before}')\n"
        "print('same result:', again.select('name', 'status', 'run_id').equals(\n"
        "    out.select('name', 'status', 'run_id')))"
    ),
    new_markdown_cell("Without the API at all, read what a job wrote:"),
    new_code_cell(
        "stored = xf.read_results(output)\n"
        "print(stored.height, 'rows;', xf.store.ledger_summary(output).render())"
    ),
    new_markdown_cell(
        "## The job report\n\n"
        "In Jupyter a job's summary is a small table. `xf.report(output)` (or "
        "`extend-frames report OUTPUT --html report.html`) draws the job as one "
        "self-contained page from its output folder: figures, the batches over time (its main "
        "chart), throughput against the plan's limit, failures with example rows, resumes and "
        "their causes. It also works while a job runs or after it stopped half way."
    ),
    new_code_cell("xf.summarize(out)"),
    new_code_cell(
        "from IPython.display import HTML\n\n"
        "page = xf.report(output)\n"
        "(work / 'report.html').write_text(page)  # open it in a browser, or share it\n"
        "HTML(page)"
    ),
    new_markdown_cell(
        "## Run it every day: a result cache\n\n"
        "A daily job over a growing folder should pay only for new or changed documents. "
        "`cache=` (a folder or any fsspec URL, shared by every run) keeps each processed "
        "result under a digest of the document (its bytes, its file id, its text, or its URL "
        "without the presigning query string) and of the extractor version and config. "
        "`xf.plan` shows what a call would send and cost before paying; tomorrow's run "
        "submits only what the cache has not seen, and cached rows say so."
    ),
    new_code_cell(
        "cache = xf.Cache(work / 'cache')\n"
        "today = xf.extract(files.head(10), processor=extractor['id'], cache=cache, **quiet)\n"
        "tomorrow = files.head(14)  # four new documents arrived\n"
        "print(xf.plan(tomorrow, 'extract', processor=extractor['id'], cache=cache,\n"
        "              client=client))\n"
        "sent = emu.stats()['inputs_submitted']\n"
        "again = xf.extract(tomorrow, processor=extractor['id'], cache=cache, **quiet)\n"
        "print('sent today:', emu.stats()['inputs_submitted'] - sent)\n"
        "again.group_by('cached').agg(pl.len(), pl.col('credits').sum()).sort('cached')"
    ),
    new_code_cell("client.close()\nemu.stop()"),
]

CLASSIFY_AND_SPLIT = [
    new_markdown_cell(
        "# Classify and split: what is in this pile of documents?\n\n"
        "Offline, on the local emulator: classify every sample document, chart the types, "
        "then split the multi-document *packets* into their parts and chart where each part "
        "starts and ends."
    ),
    new_code_cell(
        "import logging\n"
        "import tempfile\n"
        "from pathlib import Path\n\n"
        "import matplotlib\n"
        "import matplotlib.pyplot as plt\n"
        "import polars as pl\n\n"
        "import extend_frames as xf\n"
        "from extend_frames.emulator import Emulator\n"
        "from extend_frames.emulator.samples import (\n"
        "    CLASSIFIER_CONFIG, SPLITTER_CONFIG, generate_samples,\n"
        ")\n\n"
        "work = Path(tempfile.mkdtemp(prefix='xf-classify-'))\n"
        "samples = generate_samples(work / 'samples', count=60, seed=2)\n"
        "truth = pl.read_parquet(samples.ground_truth_path).with_columns(\n"
        "    (pl.lit(str(samples.directory) + '/') + pl.col('path')).alias('file')\n"
        ")\n"
        "emu = Emulator().start()\n"
        "client = xf.Client(\n"
        "    api_key=emu.api_key, base_url=emu.url,\n"
        "    rate_limits=xf.RateLimits(get=2000, write=2000, run=2000),\n"
        ")\n"
        "quiet = {'client': client, 'polling': xf.Polling.fast(), 'progress': False}\n"
        "# The emulator really reads the samples, including deliberately broken PDFs:\n"
        "logging.getLogger('pypdf').setLevel(logging.ERROR)  # keep its warnings out of sight\n"
        "classifier = await client.create_processor(\n"
        "    'classifier', name='Document types', config=CLASSIFIER_CONFIG)\n"
        "splitter = await client.create_processor(\n"
        "    'splitter', name='Packets', config=SPLITTER_CONFIG)\n"
        "print(len(truth), 'documents;', classifier['id'], splitter['id'])"
    ),
    new_markdown_cell("## Classify every document"),
    new_code_cell(
        "docs = truth.select('file', 'doc_type')\n"
        "classified = xf.classify(docs, processor=classifier['id'], **quiet)\n"
        "types = classified.select(\n"
        "    pl.col('file').str.split('/').list.last().alias('name'),\n"
        "    'status',\n"
        "    pl.col('output').struct.field('type'),\n"
        "    pl.col('output').struct.field('confidence'),\n"
        "    pl.col('doc_type').alias('truth'),\n"
        ")\n"
        "print(classified.xf.summary())\n"
        "types.head()"
    ),
    new_markdown_cell(
        "How many of each type, and how sure was the classifier? (Failed files have no type.)"
    ),
    new_code_cell(
        "counts = (\n"
        "    types.filter(pl.col('status') == 'PROCESSED')\n"
        "    .group_by('type').agg(pl.len().alias('documents'), pl.col('confidence').mean())\n"
        "    .sort('documents', descending=True)\n"
        ")\n"
        "fig, ax = plt.subplots(figsize=(7, 3))\n"
        "bars = ax.bar(counts['type'].to_list(), counts['documents'].to_list(), color='#4C72B0')\n"
        "ax.bar_label(bars, labels=[f'{c:.2f}' for c in counts['confidence']], padding=2)\n"
        "ax.set_ylabel('documents')\n"
        "ax.margins(y=0.15)\n"
        "ax.set_title('Document types (label: mean confidence)')\n"
        "plt.show()\n"
        "counts"
    ),
    new_markdown_cell(
        "Against the ground truth the sample generator wrote (packets hold several documents, "
        "so a single type cannot be right for them):"
    ),
    new_code_cell(
        "singles = types.filter((pl.col('status') == 'PROCESSED') & (pl.col('truth') != 'packet'))\n"
        "right = singles.filter(pl.col('type') == pl.col('truth')).height\n"
        "print(f'classify accuracy: {right}/{singles.height}')"
    ),
    new_markdown_cell(
        "## Split the packets\n\n"
        "A splitter returns, per file, a list of parts: type and page range. Exploded, it is "
        "one row per part."
    ),
    new_code_cell(
        "packets = docs.filter(pl.col('doc_type') == 'packet')\n"
        "split = xf.split(packets, processor=splitter['id'], **quiet)\n"
        "parts = split.select(\n"
        "    pl.col('file').str.split('/').list.last().alias('packet'), 'output'\n"
        ").explode('output').unnest('output').select(\n"
        "    'packet', 'type', 'start_page', 'end_page', 'identifier'\n"
        ")\n"
        "print(split.xf.summary())\n"
        "parts"
    ),
    new_markdown_cell("Each packet as a strip of pages, coloured by the type of each part:"),
    new_code_cell(
        "names = parts['packet'].unique(maintain_order=True).to_list()\n"
        "palette = dict(zip(sorted(parts['type'].unique().to_list()),\n"
        "                   matplotlib.colormaps['tab10'].colors))\n"
        "fig, ax = plt.subplots(figsize=(8, 0.45 * len(names) + 1))\n"
        "for row, name in enumerate(names):\n"
        "    for part in parts.filter(pl.col('packet') == name).iter_rows(named=True):\n"
        "        width = part['end_page'] - part['start_page'] + 1\n"
        "        ax.broken_barh([(part['start_page'] - 0.5, width)], (row - 0.4, 0.8),\n"
        "                       facecolors=palette[part['type']], edgecolor='white')\n"
        "ax.set_yticks(range(len(names)), names)\n"
        "ax.invert_yaxis()\n"
        "ax.set_xlabel('page')\n"
        "ax.legend(handles=[plt.Rectangle((0, 0), 1, 1, color=c) for c in palette.values()],\n"
        "          labels=list(palette), loc='upper left', bbox_to_anchor=(1, 1))\n"
        "ax.set_title('Parts found in each packet')\n"
        "plt.show()"
    ),
    new_code_cell(
        "want = truth.filter(pl.col('doc_type') == 'packet').select(\n"
        "    pl.col('splits').list.eval(pl.element().struct.field('start_page').cast(pl.Int64))\n"
        ")\n"
        "got = split.select(\n"
        "    pl.col('output').list.eval(pl.element().struct.field('start_page')).alias('splits')\n"
        ")\n"
        "exact = sum(a == b for a, b in zip(got['splits'].to_list(), want['splits'].to_list()))\n"
        "print(f'packets split exactly right: {exact}/{len(names)}')"
    ),
    new_code_cell("client.close()\nemu.stop()"),
]


def write(name: str, cells: list[object]) -> Path:
    nb = new_notebook(cells=cells, metadata=KERNEL)
    path = HERE / name
    nbformat.write(nb, path)
    return path


def main() -> None:
    for name, cells in (
        ("quickstart.ipynb", QUICKSTART),
        ("classify_and_split.ipynb", CLASSIFY_AND_SPLIT),
    ):
        print("wrote", write(name, cells))


if __name__ == "__main__":
    main()

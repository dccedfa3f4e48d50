# spamdetect: `make demo` runs the main job, `make test` runs the tests; both install first if needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MODEL := spamdetect/models/default.joblib
CORPUS ?= $(or $(SPAMDETECT_CORPUS),../shared/corpus)
OUT := out

.PHONY: install test demo model train ui serve bench bench-memory bench-profile experiments report clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test,spark,bench]"
	touch $@

test: install
	$(BIN)/python -m pytest -q

# Score a sample crawl with the shipped model; with the corpus present, also train and record a run.
demo: install
	@mkdir -p $(OUT)
	$(BIN)/spamdetect score data/sample $(wildcard $(CORPUS)/commoncrawl-sample/*.warc.gz) -o $(OUT)/demo-scores.jsonl --workers 2 --overwrite
	$(BIN)/python -m spamdetect.summary $(OUT)/demo-scores.jsonl
	$(BIN)/spamdetect sites $(OUT)/demo-scores.jsonl -o $(OUT)/demo-sites.csv --html $(OUT)/demo-sites.html --blocklist $(OUT)/demo-blocklist.txt
	@if [ -f "$(CORPUS)/htmldate/pages.jsonl" ]; then \
		$(BIN)/spamdetect train --corpus "$(CORPUS)" --limit 500 --run-name demo-quick-train --no-register; \
		echo "MLflow run recorded: 'make ui' and open http://127.0.0.1:5000"; \
	else echo "no corpus at $(CORPUS): skipped training (set CORPUS=... to train)"; fi

# Rebuild the model shipped inside the package from the corpus (also registered as spamdetect@champion).
model: install
	$(BIN)/spamdetect train --corpus "$(CORPUS)" --holdout-families --save-to $(MODEL) --run-name shipped-model

train: install
	$(BIN)/spamdetect train --corpus "$(CORPUS)"

ui: install
	$(BIN)/mlflow ui --backend-store-uri sqlite:///mlruns.db --host 127.0.0.1 --port 5000

clean:
	rm -rf build $(OUT)

# The model over HTTP with MLflow's scoring server (docs/serving.md).
serve: install
	$(BIN)/spamdetect serve --port 5001 --workers 2

# Scoring throughput on a 2,000-page WARC of real pages, side by side with trafilatura and
# parse-only, 1 worker and all cores, in one run; logged to MLflow (docs/benchmark.md).
bench: install
	$(BIN)/python -m spamdetect.bench

# Peak memory of the whole process tree while scoring a plain WARC of GB gigabytes.
GB ?= 5
bench-memory: install
	$(BIN)/python -m spamdetect.bench --memory-gb $(GB)

# Where single-process scoring spends its time (pyinstrument).
bench-profile: install
	$(BIN)/python -m spamdetect.bench --profile --pages 300

# Baselines, ablations, generalisation, learning curve, robustness -> MLflow experiment spamdetect-experiments.
experiments: install
	$(BIN)/python -m experiments.run_all

# experiments/REPORT.md and experiments/figures/*.png from the newest experiment runs.
report: install
	$(BIN)/python -m experiments.report

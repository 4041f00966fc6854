"""The ``mediawatch`` command."""

from __future__ import annotations

import json
import shutil
import socket
from enum import StrEnum
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import structlog
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress

from classifier.retrain import TRAINABLE
from classifier.train import TASKS
from mediawatch.audit import AuditFilesUnwritable
from mediawatch.cli_access import audit_app, users_app
from mediawatch.config import ConfigError, Settings, load_sources
from mediawatch.logs import configure_logging
from mediawatch.sqlite_files import DamagedFile

console = Console(soft_wrap=True)  # URLs and tokens must survive narrow terminals whole
log = structlog.get_logger("mediawatch.cli")


class _Commands(typer.Typer):
    """The command line: a damaged data file, or an audit key folder it may not write, is
    its one sentence and exit 2, whichever command opened it, never a traceback."""

    def __call__(self, *args: object, **kwargs: object) -> object:
        try:
            return super().__call__(*args, **kwargs)
        except (DamagedFile, AuditFilesUnwritable) as error:
            log.error("unusable_file", path=str(error.path), error=str(error))
            console.print(f"[red]{escape(str(error))}[/red]")
            raise SystemExit(2) from error


app = _Commands(
    help="mediawatch: giám sát báo chí và mạng xã hội về chính sách tỉnh Lâm Đồng.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

DEMO_CRAWL_DELAY_S = 0.2
# The development side of the written Lâm Đồng set (issue 13); its test side is only reported.
DEFAULT_RISK_TUNING = Path("tests/data/heldout/lamdong.dev.jsonl")
DEMO_MARKER = ".mediawatch-demo"  # written into a folder the demo made: only such are wiped


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging")] = False,
    json_logs: Annotated[bool, typer.Option("--json-logs", help="Log lines as JSON")] = False,
) -> None:
    configure_logging("DEBUG" if verbose else "INFO", json=json_logs)


def _load_sources_or_exit(path: Path) -> list:
    try:
        return load_sources(path)
    except ConfigError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error


def _bind_or_exit(host: str, port: int) -> socket.socket:
    """The listening socket, taken before anything is written or deleted; a busy port is one
    sentence and exit 2, not an OSError traceback."""
    from mediawatch.service import bind

    try:
        return bind(host, port)
    except OSError as error:
        log.error("bind_failed", host=host, port=port, error=str(error))
        console.print(
            f"[red]Không mở được cổng {escape(host)}:{port} (port unavailable: "
            f"{escape(error.strerror or str(error))}); dừng chương trình đang giữ cổng này "
            "hoặc chọn cổng khác bằng --port (0 chọn một cổng trống).[/red]"
        )
        raise typer.Exit(2) from error


def _fresh_demo_dir(data_dir: Path) -> None:
    """Empty the demo's folder for a new run, but only one the demo made (it carries
    DEMO_MARKER) or an empty one: ``--data-dir`` pointed at real data must not wipe it."""
    marked = (data_dir / DEMO_MARKER).is_file()
    if data_dir.exists() and not marked and (not data_dir.is_dir() or any(data_dir.iterdir())):
        log.error("demo_dir_refused", data_dir=str(data_dir))
        console.print(
            f"[red]{escape(str(data_dir))} đã có dữ liệu và không phải thư mục của bản minh họa "
            "(not a demo folder): không xoá gì; chọn --data-dir khác hoặc một thư mục trống."
            "[/red]"
        )
        raise typer.Exit(2)
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    (data_dir / DEMO_MARKER).write_text("mediawatch demo: this folder is wiped by each demo\n")


def _print_access(url: str, created: list) -> None:
    """The first accounts' secrets, printed once: nothing keeps them in clear."""
    console.print(f"\n[bold green]mediawatch đang chạy:[/bold green] {url}/")
    for credentials in created:
        console.print(
            f"  Đăng nhập (login): {credentials.username} / {credentials.password}"
            f"   {escape(f'[{credentials.role}]')}"
        )
        console.print(
            f"  API token: {credentials.api_token}   (header: Authorization: Bearer <token>)"
        )
    if not created:
        console.print(
            "  Đăng nhập bằng tài khoản đã có; quên mật khẩu: mediawatch users reset NAME"
        )
    console.print(f"  OpenAPI: {url}/api/openapi.json · Dừng: Ctrl+C\n", highlight=False)


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Address to serve on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0 picks a free one)")] = 8000,
    data_dir: Annotated[Path, typer.Option(help="Where the demo keeps its data")] = Path(
        "var/demo"
    ),
) -> None:
    """Serve the built-in demo corpus on loopback, crawl it, classify it, show the dashboard."""
    from mediawatch.demo.site import DemoSiteServer
    from mediawatch.service import build_pipeline, serve, with_credentials

    sock = _bind_or_exit(host, port)
    try:
        _fresh_demo_dir(data_dir)
    except typer.Exit:
        sock.close()
        raise
    settings = Settings(data_dir=data_dir, host=host, port=port)
    settings.crawl.download_delay_s = DEMO_CRAWL_DELAY_S
    # The demo's audit key and anchor go with its data: each demo wipes the folder, and a key
    # left beside it would read the new, empty log as one cut short.
    settings.security.audit_key_file = data_dir / "audit-keys" / "audit.key"
    settings.security.audit_anchor_file = data_dir / "audit-keys" / "audit-anchor.json"
    settings.port = sock.getsockname()[1]
    settings, created = with_credentials(settings, demo=True)
    pipeline = build_pipeline(settings)
    with DemoSiteServer() as site:
        # The demo's outlets live on loopback, which crawls refuse unless it is listed.
        settings.crawl.allowed_internal_hosts = [urlsplit(site.base_url).hostname or ""]
        sources = site.site.sources()
        console.print(f"Trang tin minh họa: {site.base_url}/ — đang thu thập {len(sources)} nguồn…")
        report = pipeline.crawl(sources)
        console.print(
            f"Đã lưu {report.stored} tin ({report.duplicates} trùng nội dung); "
            f"{sum(report.failures.values())} lỗi."
        )
        serve(
            settings,
            pipeline,
            sources,
            sock,
            crawl_now=False,
            on_started=lambda: _print_access(settings.base_url, created),
        )


@app.command()
def run(
    sources_file: Annotated[
        Path | None, typer.Option("--sources", help="Source registry (YAML)")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (0 picks a free one)")] = None,
) -> None:
    """Crawl the real sources on their schedules and serve the API and dashboards."""
    from mediawatch.service import build_pipeline, serve, with_credentials

    settings = Settings()
    if port is not None:
        settings.port = port
    sources = _load_sources_or_exit(sources_file or settings.sources_file)
    sock = _bind_or_exit(settings.host, settings.port)
    settings.port = sock.getsockname()[1]
    settings, created = with_credentials(settings)
    pipeline = build_pipeline(settings)
    console.print(f"{len(sources)} nguồn, {sum(s.enabled for s in sources)} đang bật.")
    serve(
        settings,
        pipeline,
        sources,
        sock,
        crawl_now=True,
        on_started=lambda: _print_access(settings.base_url, created),
    )


@app.command()
def worker(
    sources_file: Annotated[
        Path | None, typer.Option("--sources", help="Source registry (YAML)")
    ] = None,
) -> None:
    """Crawl on schedule, flush the spool and send the digest, without serving the API."""
    import signal
    import threading

    from mediawatch.service import background_jobs, build_pipeline

    settings = Settings()
    sources = _load_sources_or_exit(sources_file or settings.sources_file)
    scheduler = background_jobs(settings, build_pipeline(settings), sources, crawl_now=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    scheduler.start()
    console.print(f"worker: {sum(s.enabled for s in sources)} nguồn đang bật; Ctrl+C để dừng")
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        scheduler.stop()


@app.command()
def crawl(
    sources_file: Annotated[
        Path | None, typer.Option("--sources", help="Source registry (YAML)")
    ] = None,
) -> None:
    """Crawl every enabled source once, store what it gives, and exit."""
    from mediawatch.service import build_pipeline

    settings = Settings()
    sources = _load_sources_or_exit(sources_file or settings.sources_file)
    report = build_pipeline(settings).crawl(sources)
    console.print(
        f"Đã lưu {report.stored} tin mới, cập nhật {report.updated}; "
        f"bỏ qua {report.not_about_province} tin không nhắc đến địa danh của tỉnh; "
        f"{len(report.failed_sources)} nguồn lỗi."
    )


class Backend(StrEnum):
    linear = "linear"
    transformers = "transformers"


def _train_transformers(
    tasks: list[str],
    data: Path,
    out: Path,
    seed: int,
    base_model: Path | None,
    hyper: dict[str, float],
) -> None:
    """``train --backend transformers``: fine-tune a local checkpoint per task."""
    if base_model is None:
        console.print("[red]--backend transformers needs --base-model DIR (a local checkpoint)")
        raise typer.Exit(2)
    try:
        from classifier.transformer import CheckpointError, FineTuneSettings, fine_tune
    except ImportError as error:
        log.error("train_failed", backend="transformers", error=str(error))
        console.print(f"[red]{escape(str(error))}[/red]")
        raise typer.Exit(2) from error
    settings = FineTuneSettings(**hyper)
    for name in tasks:
        console.print(f"Huấn luyện (transformers): {name} từ {base_model}")
        try:
            model = fine_tune(TASKS[name], data, base_model, settings, seed=seed)
        except CheckpointError as error:
            log.error("train_failed", task=name, base_model=str(base_model), error=str(error))
            console.print(f"[red]{escape(str(error))}[/red]")
            raise typer.Exit(2) from error
        except (FileNotFoundError, KeyError, ValueError) as error:
            console.print(f"[red]{name}: {escape(str(error))}[/red]")
            raise typer.Exit(1) from error
        saved = model.save(out)
        dev = model.card.metrics.get("dev", {})
        folded = model.card.metrics.get("dev_without_diacritics", {})
        console.print(
            f"{name}: {saved} · macro-F1 {dev.get('macro_f1')} · accuracy {dev.get('accuracy')}"
            f" · without diacritics {folded.get('macro_f1')}"
        )


@app.command()
def train(
    data: Annotated[Path, typer.Option(help="Labelled data (../shared/data layout)")] = Path(
        "../shared/data"
    ),
    out: Annotated[Path, typer.Option(help="Where to write model files and cards")] = Path(
        "classifier/models"
    ),
    task: Annotated[
        list[str] | None, typer.Option(help=f"Task(s) to train, of: {', '.join(TRAINABLE)}")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for splits and the solver")] = 13,
    risk_tuning: Annotated[
        Path | None,
        typer.Option(
            help="Labelled items of the province ({text, title?, source_tier, flag} lines) the "
            "risk combination is tuned on, and its review threshold chosen by; never a test set"
        ),
    ] = DEFAULT_RISK_TUNING,
    include_reviews: Annotated[
        bool,
        typer.Option(
            help="Also learn from reviewers' decisions in the store: new versions of the "
            "reliability and risk models, kept beside those in use ('mediawatch models use')"
        ),
    ] = False,
    backend: Annotated[
        Backend, typer.Option(help="linear (shipped) or transformers (needs the extra)")
    ] = Backend.linear,
    base_model: Annotated[
        Path | None, typer.Option(help="transformers: a local checkpoint directory")
    ] = None,
    epochs: Annotated[int, typer.Option(help="transformers: passes over the data")] = 3,
    batch_size: Annotated[int, typer.Option(help="transformers: texts per step")] = 16,
    max_length: Annotated[int, typer.Option(help="transformers: tokens kept per text")] = 256,
    learning_rate: Annotated[float, typer.Option(help="transformers: AdamW's rate")] = 3e-5,
) -> None:
    """Train the task models (all by default) and write them with their cards."""
    from classifier.labelled_data import DataFileError
    from classifier.linear import ModelLoadError
    from classifier.registry import ModelRegistry
    from classifier.retrain import (
        LEARNS_FROM_REVIEWS,
        train_models,
        train_with_reviews,
    )
    from classifier.topic_labels import TopicLabels
    from index.store import StoreError
    from mediawatch.service import build_store

    if include_reviews and (task or backend is Backend.transformers):
        console.print(
            "[red]--include-reviews trains the linear reliability, risk and topic models "
            "together; it takes no --task or --backend[/red]"
        )
        raise typer.Exit(2)
    if backend is Backend.transformers:
        allowed: tuple[str, ...] = tuple(TASKS)
    else:
        allowed = LEARNS_FROM_REVIEWS if include_reviews else TRAINABLE
    tasks = task or list(allowed)
    unknown = sorted(set(tasks) - set(allowed))
    if unknown:
        possible = ", ".join(allowed)
        console.print(f"[red]Cannot train {', '.join(unknown)} here; possible: {possible}")
        raise typer.Exit(2)
    if not data.is_dir():
        console.print(f"[red]No labelled data at {data}[/red]")
        raise typer.Exit(2)
    if risk_tuning is not None and not risk_tuning.is_file():
        if risk_tuning != DEFAULT_RISK_TUNING:
            console.print(f"[red]Không có tệp (no file) {escape(str(risk_tuning))}[/red]")
            raise typer.Exit(2)
        # Outside a checkout the written set is not there: the weights are fitted on the
        # reliability data alone, and the review threshold stays as configured.
        console.print(
            f"[yellow]Không có bộ viết tay (no written tuning set) {risk_tuning}: rủi ro chỉ "
            "khớp trên dữ liệu độ tin cậy (risk fitted on the reliability data only)[/yellow]"
        )
        risk_tuning = None
    if backend is Backend.transformers:
        hyper = {
            "epochs": epochs,
            "batch_size": batch_size,
            "max_length": max_length,
            "learning_rate": learning_rate,
        }
        _train_transformers(tasks, data, out, seed, base_model, hyper)
        return
    with Progress(console=console) as progress:
        bar = progress.add_task("Huấn luyện mô hình", total=len(tasks))

        def step(name: str) -> None:
            progress.update(bar, description=f"Huấn luyện: {name}", advance=1)

        try:
            not_trained: list[str] = []
            if include_reviews:
                settings = Settings()
                corrections = TopicLabels(settings.topic_labels_path, frozenset())
                trained, not_trained = train_with_reviews(
                    build_store(settings).export_documents(),
                    corrections.latest(),
                    ModelRegistry(settings.models_registry),
                    data,
                    seed,
                    step,
                    risk_tuning,
                )
            else:
                trained = train_models(tasks, data, out, seed, step, risk_tuning)
        except (
            FileNotFoundError,
            KeyError,
            ValueError,
            OSError,
            DataFileError,
            ModelLoadError,
            StoreError,
        ) as error:
            log.error("train_failed", tasks=tasks, reviews=include_reviews, error=str(error))
            console.print(f"[red]{escape(str(error))}[/red]")
            raise typer.Exit(1) from error
    for model in trained:
        console.print(f"{model.task}: {model.summary} → {model.directory}")
    for reason in not_trained:
        console.print(f"[yellow]Chưa huấn luyện (not trained) {reason}[/yellow]")
    if include_reviews:
        console.print("Mô hình mới chưa được dùng. Đọc thẻ mô hình rồi chuyển bằng lệnh:")
        for model in trained:
            console.print(f"  mediawatch models use {model.task} {model.version}")


@app.command("train-matcher")
def train_matcher_command(
    data_dir: Annotated[
        Path, typer.Option(help="Dữ liệu gán nhãn (labelled data): claim_pairs, phía dev")
    ] = Path("../shared/data"),
    written: Annotated[
        Path, typer.Option(help="Bộ viết tay Lâm Đồng (the written set), phía dev")
    ] = DEFAULT_RISK_TUNING.parent,
    out: Annotated[
        Path, typer.Option(help="Thư mục ghi claim_matching.json (where to write the model)")
    ] = Path("classifier/models"),
    seed: Annotated[int, typer.Option(help="Hạt ngẫu nhiên (seed)")] = 13,
) -> None:
    """Huấn luyện bộ so khớp khẳng định (fit the claim matcher): its pair measures' weights on
    the dev sides of ViFactCheck and of the written Lâm Đồng set, thresholds chosen on the
    latter out of fold. The test sides are never read."""
    import tempfile

    from classifier.claim_fit import fit_matching_model, read_labelled_set
    from classifier.embeddings import shipped_word_vectors
    from classifier.evaluate import EvaluationError
    from classifier.heldout_sets import HeldoutSetsError, write_heldout_sets
    from classifier.labelled_data import DataFileError

    try:
        with tempfile.TemporaryDirectory(prefix="mediawatch-sets-") as folder:
            sets_dir = Path(folder)
            write_heldout_sets(data_dir, sets_dir)
            sets = [
                read_labelled_set(
                    "vifactcheck_dev",
                    sets_dir / "claims.dev.claims.jsonl",
                    sets_dir / "claims.dev.jsonl",
                    chooses_thresholds=False,
                ),
                read_labelled_set(
                    "lamdong_dev",
                    written / "lamdong_claims.dev.jsonl",
                    written / "lamdong.dev.jsonl",
                    chooses_thresholds=True,
                ),
            ]
            model = fit_matching_model(sets, shipped_word_vectors(), seed)
    except (EvaluationError, HeldoutSetsError, DataFileError, OSError) as error:
        log.error("train_matcher_failed", data=str(data_dir), error=str(error))
        console.print(f"[red]{escape(str(error))}[/red]")
        raise typer.Exit(1) from error
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / "claim_matching.json")
    chosen = model.metrics["out_of_fold_at_thresholds"]["lamdong_dev"]
    console.print(
        f"{model.version}: liên kết (link) ≥ {model.link_threshold}, gợi ý (suggest) ≥ "
        f"{model.suggest_threshold}; ngoài fold (out of fold) trên lamdong_dev: link "
        f"{chosen['link']['precision']}/{chosen['link']['recall']}, surfaced "
        f"{chosen['surfaced']['precision']}/{chosen['surfaced']['recall']} (precision/recall)"
    )


@app.command("train-embeddings")
def train_embeddings_command(
    data_dir: Annotated[
        Path, typer.Option(help="Dữ liệu gán nhãn, chỉ tập train (labelled data, train splits)")
    ] = Path("../shared/data"),
    out: Annotated[
        Path, typer.Option(help="Thư mục ghi embeddings.npz và thẻ (where to write the files)")
    ] = Path("classifier/models"),
    seed: Annotated[int, typer.Option(help="Hạt ngẫu nhiên (seed)")] = 13,
    dims: Annotated[int, typer.Option(help="Số chiều vectơ (dimensions)")] = 100,
    epochs: Annotated[int, typer.Option(help="Số lượt qua dữ liệu (epochs)")] = 5,
    max_words: Annotated[
        int | None,
        typer.Option(help="Chỉ lấy ngần này từ đầu mỗi văn bản (words kept per text)"),
    ] = None,
) -> None:
    """Huấn luyện vectơ từ cho so khớp khẳng định (train the word vectors claim matching
    uses): gensim FastText on the folded train texts, a few minutes on two cores."""
    from classifier.labelled_data import DataFileError
    from classifier.train_embeddings import train_embeddings

    if not data_dir.is_dir():
        console.print(f"[red]Không có dữ liệu (no data) tại {escape(str(data_dir))}[/red]")
        raise typer.Exit(2)
    with Progress(console=console) as progress:
        bar = progress.add_task("Huấn luyện vectơ từ (training word vectors)", total=epochs)
        try:
            vectors = train_embeddings(
                data_dir,
                out,
                seed=seed,
                dims=dims,
                epochs=epochs,
                max_words=max_words,
                on_epoch=lambda done, _total: progress.update(bar, completed=done),
            )
        except (FileNotFoundError, DataFileError, OSError, ValueError) as error:
            log.error("train_embeddings_failed", data=str(data_dir), error=str(error))
            console.print(f"[red]{escape(str(error))}[/red]")
            raise typer.Exit(1) from error
    card = vectors.card
    console.print(
        f"Đã ghi (written) {out / 'embeddings.npz'}: {card.size_bytes} byte, "
        f"{card.vocabulary} từ (words), {card.dims} chiều (dims), {card.tokens} từ huấn luyện "
        f"(training words), {card.training_seconds} s"
    )


models_app = typer.Typer(help="Model versions: list them, choose the one in use.")
app.add_typer(models_app, name="models")


@models_app.command("list")
def models_list() -> None:
    """Every version of every model, its dev figures, and which one is in use."""
    from classifier.registry import REGISTERED_TASKS, ModelRegistry, RegistryError

    settings = Settings()
    if settings.models_dir is not None:
        console.print(
            f"[yellow]MEDIAWATCH_MODELS_DIR={settings.models_dir} is set: the "
            "service loads every model from there, not the versions below[/yellow]"
        )
    registry = ModelRegistry(settings.models_registry)
    try:
        versions = [version for name in REGISTERED_TASKS for version in registry.versions(name)]
    except RegistryError as error:
        console.print(f"[red]{escape(str(error))}[/red]")
        raise typer.Exit(2) from error
    for version in versions:
        card = version.card
        dev = card.get("metrics", {}).get("dev", {})
        figure = dev.get("macro_f1", dev.get("risk", {}).get("roc_auc", "—"))
        data = card.get("data", {})
        reviews = data.get("reviewed_rows", data.get("reviewed_items")) or data.get(
            "datasets", {}
        ).get("reviews", {}).get("train", 0)
        # One line per version, never wrapped: a version name must stay whole to be typed.
        console.print(
            f"{'✓' if version.active else ' '} {version.task:<12} {version.version}  "
            f"huấn luyện {card.get('trained_at', '—')} · dev {figure} · "
            f"tin đã xem xét {reviews}",
            highlight=False,
        )


@models_app.command("use")
def models_use(
    task: Annotated[str, typer.Argument(help="reliability, risk, topics, sentiment…")],
    version: Annotated[str, typer.Argument(help="A version from 'models list', or 'shipped'")],
) -> None:
    """Switch the service to another version of a model (takes effect on restart)."""
    from classifier.registry import ModelRegistry, RegistryError

    settings = Settings()
    registry = ModelRegistry(settings.models_registry)
    try:
        chosen = registry.use(task, version)
        risk_versions = registry.versions("risk") if task == "reliability" else []
    except RegistryError as error:
        console.print(f"[red]{escape(str(error))}[/red]")
        raise typer.Exit(2) from error
    log.info("model_switched", task=task, version=version, directory=str(chosen.directory))
    console.print(
        f"{task}: đang dùng {chosen.version} ({chosen.directory}). "
        "Khởi động lại dịch vụ và worker để áp dụng."
    )
    reliability_version = chosen.card.get("version")
    paired = [
        v.version
        for v in risk_versions
        if v.card.get("data", {}).get("reliability_model") == reliability_version
    ]
    if paired and not any(v.active and v.version in paired for v in risk_versions):
        console.print(
            f"[yellow]Trọng số rủi ro được khớp với mô hình này: {', '.join(paired)} "
            f"(mediawatch models use risk {paired[-1]})[/yellow]"
        )
    if settings.models_dir is not None:
        console.print(
            f"[yellow]MEDIAWATCH_MODELS_DIR={settings.models_dir} is set: the "
            "service ignores this choice until it is unset[/yellow]"
        )


EVALUATION_TASKS = ("risk", "claims")


@app.command()
def evaluate(
    task: Annotated[str, typer.Option(help=f"One of: {', '.join((*TASKS, *EVALUATION_TASKS))}")],
    data: Annotated[
        Path,
        typer.Option(
            help="Labelled JSONL(.gz): id, text, label (a model); text, title, source_tier, "
            "flag (risk); text, claim_id (claims)"
        ),
    ],
    claims: Annotated[
        Path | None, typer.Option(help="--task claims: the claims, JSONL lines {id, statement}")
    ] = None,
    models: Annotated[
        Path | None, typer.Option(help="Model directory; the shipped models by default")
    ] = None,
) -> None:
    """Score a model, the review queue (risk) or the claims matcher (claims) on a labelled
    file; print one JSON object (nothing else on stdout)."""
    from classifier.claims_evaluation import evaluate_claims_file
    from classifier.evaluate import EvaluationError, evaluate_file
    from classifier.labelled_data import DataFileError
    from classifier.linear import ModelLoadError
    from classifier.risk_evaluation import evaluate_risk_file
    from classifier.service import SHIPPED_MODELS

    settings = Settings()
    if models is not None:
        settings = settings.model_copy(update={"models_dir": models})
    try:
        if (claims is None) == (task == "claims"):
            raise EvaluationError(
                "--claims FILE chỉ dùng, và phải dùng, với --task claims "
                "(--claims goes with --task claims only)"
            )
        if task == "risk":
            report = evaluate_risk_file(data, settings)
        elif claims is not None:
            report = evaluate_claims_file(claims, data, settings)
        else:
            report = evaluate_file(task, data, models or SHIPPED_MODELS)
    except (EvaluationError, DataFileError, ModelLoadError) as error:
        log.error("evaluate_failed", task=task, data=str(data), error=str(error))
        typer.echo(f"Lỗi (error): {error}", err=True)
        raise typer.Exit(2) from error
    typer.echo(json.dumps(report, ensure_ascii=False))


@app.command("heldout-sets")
def heldout_sets(
    out: Annotated[Path, typer.Option(help="Folder for the files (outside the repository)")],
    data_dir: Annotated[Path, typer.Option(help="Labelled data (../shared/data layout)")] = Path(
        "../shared/data"
    ),
) -> None:
    """Write the frozen dev/test files of 'evaluate --task risk|claims' built from real data."""
    from classifier.heldout_sets import HeldoutSetsError, write_heldout_sets
    from classifier.labelled_data import DataFileError

    try:
        counts = write_heldout_sets(data_dir, out)
    except (HeldoutSetsError, DataFileError, FileNotFoundError) as error:
        log.error("heldout_sets_failed", data_dir=str(data_dir), out=str(out), error=str(error))
        console.print(f"[red]Lỗi (error): {escape(str(error))}[/red]")
        raise typer.Exit(2) from error
    for name, (lines, positives) in counts.items():
        caught = f", {positives} dòng cần bắt (flagged or repeating a claim)" if positives else ""
        console.print(f"{out / name}: {lines} dòng (lines){caught}", highlight=False)


app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")

index_app = typer.Typer(help="The store: move it between backends.", no_args_is_help=True)
app.add_typer(index_app, name="index")


@index_app.command("rebuild")
def index_rebuild(
    source: Annotated[str, typer.Option("--from", help="sqlite or elasticsearch")],
    target: Annotated[str, typer.Option("--to", help="sqlite or elasticsearch")],
) -> None:
    """Copy every item (with its review state) and the review log from one store to another."""
    from mediawatch.rebuild import rebuild
    from mediawatch.service import build_store

    backends = {"sqlite", "elasticsearch"}
    if {source, target} - backends or source == target:
        console.print(f"[red]--from and --to must be two different of: {', '.join(backends)}")
        raise typer.Exit(2)
    settings = Settings()
    stores = {
        name: build_store(settings.model_copy(update={"store": name})) for name in (source, target)
    }
    with Progress(console=console) as progress:
        bar = progress.add_task(f"{source} → {target}", total=None)
        copied = rebuild(stores[source], stores[target], lambda n: progress.advance(bar, n))
    console.print(f"Đã chép {copied} tin từ {source} sang {target}.")


claims_app = typer.Typer(help="The claims register: import others' checks, export ours.")
app.add_typer(claims_app, name="claims")


class ClaimExportFormat(StrEnum):
    CLAIMREVIEW = "claimreview"
    CSV = "csv"


def _cli_audit(settings: Settings, action: str, **detail: object) -> None:
    """Command-line changes are audited like the API's, under the account running them."""
    import getpass

    from mediawatch.audit import AuditLog

    AuditLog.from_settings(settings).record(getpass.getuser(), action, via="cli", detail=detail)


@claims_app.command("import")
def claims_import(
    file: Annotated[Path, typer.Argument(help="CSV, JSON list, or ClaimReview JSON-LD")],
    publisher: Annotated[
        str | None, typer.Option(help="The fact-checker, for rows that do not name one")
    ] = None,
) -> None:
    """Import claims judged by others; all rows or none, and importing again changes nothing."""
    import getpass

    from index.claim_exchange import ClaimImportError, parse_csv, parse_json
    from index.claims import ClaimRegister

    settings = Settings()
    parse = parse_csv if file.suffix.lower() == ".csv" else parse_json
    try:
        parsed = parse(file.read_bytes(), publisher)
    except (OSError, ClaimImportError) as error:
        console.print(f"[red]Không nhập được {escape(str(file))}: {escape(str(error))}[/red]")
        raise typer.Exit(2) from error
    results = ClaimRegister(settings.claims_path).create_many(parsed.drafts, getpass.getuser())
    created = sum(new for _id, new in results)
    _cli_audit(
        settings,
        "claim.import",
        file=str(file),
        created=created,
        skipped=parsed.skipped,
        unknown=parsed.unknown,
    )
    console.print(
        f"Đã nhập {created} khẳng định mới; {len(results) - created} đã có; "
        f"{parsed.skipped} bỏ qua (không phải sai/gây hiểu lầm); "
        f"{parsed.unknown} bỏ qua vì không hiểu đánh giá (unknown rating)."
    )
    if parsed.unknown_ratings:
        ratings = ", ".join(repr(rating) for rating in parsed.unknown_ratings)
        console.print(f"Đánh giá không hiểu (unknown ratings): {escape(ratings)}", highlight=False)


@claims_app.command("export")
def claims_export(
    format: Annotated[ClaimExportFormat, typer.Option(help="claimreview or csv")] = (
        ClaimExportFormat.CLAIMREVIEW
    ),
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File; stdout if unset")] = (
        None
    ),
) -> None:
    """Export our claims as ClaimReview JSON-LD, or the whole register as CSV (with who made
    each claim: the command runs with the server's rights, and the showing is audited)."""
    from index.claim_exchange import claim_reviews, to_csv
    from index.claims import ClaimRegister
    from mediawatch.service import build_store

    settings = Settings()
    register = ClaimRegister(settings.claims_path)
    if format is ClaimExportFormat.CSV:
        claims = register.all()
        text = to_csv(claims)
        # Whoever runs this on the server sees who made each claim: audited as the API does.
        shown = [claim.id for claim in claims if claim.author]
        if shown:
            _cli_audit(settings, "author.view", claim_ids=shown)
    else:
        reviews = claim_reviews(
            register, build_store(settings), settings.claims.publisher, settings.base_url
        )
        text = json.dumps(reviews, ensure_ascii=False, indent=2) + "\n"
    _cli_audit(settings, "claim.export", format=format.value)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@app.command()
def extract(
    file: Annotated[Path, typer.Argument(help="An HTML page (.html or .html.gz)")],
    url: Annotated[str | None, typer.Option(help="The page's address, for links and dates")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Extract one page's article the way the crawler does: text, title, date, authors."""
    import gzip
    import json

    from crawlers.extract import decode_html, extract_article

    try:
        body = file.read_bytes()
        if body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
    except (OSError, EOFError) as error:
        console.print(f"[red]{file}: cannot read: {error}[/red]")
        raise typer.Exit(2) from error
    article = extract_article(decode_html(body), url)
    record = {
        "title": article.title,
        "published": article.published.isoformat() if article.published else None,
        "authors": article.authors,
        "extractor": article.extractor,
        "date_source": article.date_source,
        "language": article.language,
        "problem": article.problem,
        "text": article.text,
    }
    if as_json:
        typer.echo(json.dumps(record, ensure_ascii=False, indent=2))
        return
    console.print(f"[bold]{record['title'] or '(không có tiêu đề)'}[/bold]", highlight=False)
    console.print(
        f"{record['published'] or 'không rõ ngày'} · {', '.join(article.authors)}", highlight=False
    )
    if article.problem:
        console.print(f"[yellow]Trang không có bài viết: {article.problem}[/yellow]")
    console.print(article.text or "(không tìm thấy bài viết)", highlight=False, markup=False)


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="CSV or JSON Lines (.csv, .jsonl, optionally .gz)")],
    file_format: Annotated[
        str | None, typer.Option("--format", help="csv or jsonl; from the file name if unset")
    ] = None,
) -> None:
    """Import items from a file (columns as POST /api/ingest items); bad rows go to a rejects
    file beside it, FILE.rejects.csv or .jsonl, and never stop the good ones."""
    from mediawatch.importer import UnreadableFile, file_format_of, import_file, rejects_path
    from mediawatch.service import build_pipeline

    try:
        fmt = file_format_of(file, file_format)
        size = file.stat().st_size
    except UnreadableFile as error:
        console.print(f"[red]{error}[/red]", highlight=False)
        raise typer.Exit(1) from error
    except OSError as error:
        console.print(f"[red]{file}: không đọc được (cannot read): {error.strerror}[/red]")
        raise typer.Exit(1) from error
    rejects = rejects_path(file, fmt)
    pipeline = build_pipeline(Settings())
    with Progress(console=console) as progress:
        bar = progress.add_task(f"Nhập {file.name}", total=size)
        try:
            report = import_file(
                file, pipeline, fmt, rejects, lambda done: progress.update(bar, completed=done)
            )
        except UnreadableFile as error:
            console.print(f"[red]{error}[/red]", highlight=False)
            raise typer.Exit(1) from error
        progress.update(bar, completed=size)
    for rejection in report.rejected[:20]:
        console.print(f"{file}:{rejection.line}: {rejection.reason}", highlight=False, markup=False)
    if len(report.rejected) > 20:
        console.print(f"… và {len(report.rejected) - 20} dòng lỗi khác (more)", highlight=False)
    if report.ignored_fields:
        console.print(f"Bỏ qua cột/trường không biết: {', '.join(sorted(report.ignored_fields))}")
    if report.stopped:
        console.print(f"[red]{report.stopped}[/red]", highlight=False)
    done = report.pipeline
    console.print(
        f"Đã đọc {report.read} dòng: {done.stored} tin mới, {done.updated} cập nhật, "
        f"{done.unchanged} không đổi, {done.duplicates} trùng nội dung, "
        f"{len(report.rejected)} bị loại (stored/updated/unchanged/duplicates/rejected).",
        highlight=False,
    )
    if report.rejected:
        console.print(f"Dòng bị loại ghi ở (rejects): {rejects}", highlight=False)
    if report.accepted == 0:
        raise typer.Exit(1)


@app.command()
def digest(
    send: Annotated[bool, typer.Option(help="Send it (or keep it in the outbox)")] = False,
) -> None:
    """Print today's digest as plain text, or deliver it with --send."""
    from classifier.taxonomy import Taxonomy
    from mediawatch.digest import build_digest, deliver_digest, render_digest
    from mediawatch.service import build_store

    settings = Settings()
    store = build_store(settings)  # the configured store: Elasticsearch in production
    labels = Taxonomy.load().labels_vi
    if send:
        path = deliver_digest(store, settings, labels)
        outcome = {
            "sent": "Đã gửi (sent)",
            "pending": "Chưa gửi được, sẽ thử lại mỗi 15 phút khi dịch vụ chạy (not sent yet)",
            "sending": "Một tiến trình khác đang gửi bản tin này (being sent by another process)",
        }.get(path.parent.name, "Không có người nhận, lưu lại (no recipients, kept)")
        console.print(f"{outcome}: {path}", highlight=False, markup=False)
        raise typer.Exit(1 if path.parent.name == "pending" else 0)
    message = render_digest(build_digest(store, settings, labels), settings)
    body = message.get_body(("plain",))
    console.print(body.get_content() if body else "", highlight=False, markup=False)


report_app = typer.Typer(help="Reports for the Department.", no_args_is_help=True)
app.add_typer(report_app, name="report")


@report_app.command("yearly")
def report_yearly(
    since: Annotated[str, typer.Option(help="First day, YYYY-MM-DD (local, included)")],
    until: Annotated[str, typer.Option(help="Last day, YYYY-MM-DD (local, included)")],
    out: Annotated[Path, typer.Option(help="The XLSX file to write")],
) -> None:
    """The yearly report (due 30/11): items, decisions, response times by topic and agency."""
    from datetime import date

    from api.reports import write_yearly_report
    from classifier.taxonomy import Taxonomy
    from mediawatch.service import build_store

    try:
        first, last = date.fromisoformat(since), date.fromisoformat(until)
    except ValueError as error:
        console.print(f"[red]Ngày không hợp lệ (invalid date): {error}")
        raise typer.Exit(2) from error
    if first > last:
        console.print("[red]--since phải không sau --until (since must not be after until)")
        raise typer.Exit(2)
    settings = Settings()
    items = write_yearly_report(
        build_store(settings),
        first,
        last,
        str(out),
        threshold=settings.review_threshold,
        timezone=settings.timezone,
        topic_labels=Taxonomy.load().labels_vi,
    )
    console.print(f"Đã ghi báo cáo {first:%d/%m/%Y}–{last:%d/%m/%Y} ({items} tin) vào {out}.")


if __name__ == "__main__":
    app()

"""Kinds of record and the features that own them. A feature package declares one `Feature` (its blueprint and its
kinds); each kind is one manifest (`Kind`): its table and form, who reads and writes it, the pages a cadre's phone keeps,
what it shows on the village's public page, on a cadre's home and on the town desk, its export columns, its audit words
and its demo data. `create_app` registers the features in order on the app (app.extensions["villageapp"]); the generic
pieces (sync, conflicts, home, the public page, the service worker, audit, demo, exports) read them from there.
Modelled on Decidim's component manifests (register_resource, exports, register_stat, seeds)."""
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Blueprint, current_app


@dataclass
class RecordType:
    """What the sync engine needs of a kind of record that phones may send: its table, the ONE Flask-WTF form that
    validates it (for the HTML page and for sync alike) and how a valid form becomes table columns."""
    name: str
    table: str
    label: str
    form: Callable = None       # form(db, village_code, formdata: MultiDict, record=None) -> Form
    to_record: Callable = None  # to_record(form) -> dict of columns (not uuid/version/created_*)
    locked: Callable = lambda row: False   # a locked record takes no edits, only proposed amendments
    url: Callable = None        # url(row) -> the record's page
    review_url: Callable = None  # review_url(row, revision) -> where a change sent to a locked record can be taken up
    writers: tuple = ("cadre",)


@dataclass
class Tile:
    """A tile of the village home page: a big link with a short line under it."""
    label: str
    url: str
    note: str = ""
    order: int = 50
    attrs: str = ""       # e.g. data-unsent-count, for a note that JS fills in


@dataclass
class Task:
    """One line of 需要我处理: a tag, what waits, where to act on it."""
    tag: str
    text: str
    url: str
    meta: str = ""
    tag_class: str = "tag-open"
    current: bool = True  # highlighted (waits for this person) rather than only shown
    order: int = 50


@dataclass
class Public:
    """What a kind shows on the village's public page. `query(db, village_code)` returns only what the privacy rule
    lets anyone see; `template` is a partial rendered with `rows`; `paths` are the regular expressions (JS syntax) of
    the kind's public pages, which the service worker may keep for reading with no signal."""
    query: Callable
    template: str
    privacy: str
    paths: tuple = ()
    order: int = 50
    example: Callable = None  # example(db, village_code) -> (a text the page must show, [texts it must never show]), after
                              # making one record of each: the privacy rule, tested for every kind (tests/test_kinds.py)


@dataclass
class Figure:
    """A column of the town desk and the county overview, computed for a period. `source` is an SQL FROM clause (with
    its WHERE) over rows that carry `village_code` (alias `x`); `sql` is an aggregate over those rows (count(*),
    sum(...), max(...)). Figures with the same source are computed together in ONE query, GROUP BY village_code, so a
    desk is one query per source, not one per village. Parameters: :start and :end (ISO dates, end exclusive), :day (today).
    A village with no rows gets `empty`. `total` is how the county sums a town ("sum", "max", or None: not summed);
    figures with total "sum" are also averaged (全镇平均, 示范村平均)."""
    key: str
    label: str
    sql: str
    source: str = ""
    alert: bool = False   # a number above 0 is shown as something to act on
    group: str = None     # the desk's column group; default: the kind's (or feature's) label
    empty: object = 0
    total: str = "sum"
    note: str = ""        # a line under the table that explains the figure
    shown: str = "number"  # "number", "text" or "datetime" (an ISO time, shown in Chinese)


@dataclass
class Listing:
    """A list the town sees and exports (meetings, households, the audit log…): the same filters on the screen and in the
    file. `query(db, filters)` yields row dicts for the parsed filters (village_code, start, end: dates, end inclusive, and
    one entry per `choices` key, each None when not chosen), oldest first or in the screen's order, without a limit."""
    name: str                 # the URL word: /t/<town>/exports/<name>
    label: str                # 会议记录
    columns: tuple            # ((中文表头, column or function of the row[, "text"|"int"|"date"|"datetime"]), …)
    query: Callable
    choices: dict = field(default_factory=dict)  # filter → (label, {value: words} or a function that returns it)
    dated: str = None         # what the period filters on (开会时间); None: the list has no period filter
    readers: tuple = ("town", "county")
    personal: bool = True     # holds personal information: the file says so on its first row
    photos: Callable = None   # photos(db, row) -> [file rows with content_type and data] for the photos zip
    photo_title: Callable = None  # photo_title(row) -> (date, title) that names its photos (村-日期-标题-序号.jpg)
    order: int = 50


@dataclass
class Kind(RecordType):
    """One kind of record. A kind with `form` and `to_record` is synced: phones may send it through /api/…/edits,
    and a plain POST saves it the same way (sync.save_form)."""
    readers: tuple = ("cadre", "adviser", "town", "county")
    to_payload: Callable = None     # to_payload(row) -> [[name, value]]: a stored record as its form sends it
    example: Callable = None        # example(db, village_code) -> a payload that makes a valid new record (demo, tests)
    offline_pages: Callable = None  # offline_pages(db, village_code) -> [urls] a cadre's phone keeps for no signal
    public: Public = None
    tiles: Callable = None          # tiles(db, village_code, role) -> [Tile]
    tasks: Callable = None          # tasks(db, village_code, role) -> [Task] for 需要我处理
    town_tasks: Callable = None     # town_tasks(db, role) -> [Task] for the town desk's 需要我处理 (role town; county reads)
    figures: tuple = ()             # (Figure, …) per village on the town desk
    export: tuple = ()              # ((中文表头, column or function of the row), …): the columns of its CSV/XLSX
    lists: tuple = ()               # (Listing, …): the lists of its records the town sees and exports (exports/)
    rows: Callable = None           # rows(db, village_code) -> the records its export lists; default: its table's rows
    actions: dict = field(default_factory=dict)  # audit action → words
    tables: dict = field(default_factory=dict)   # table → words, for the audit log
    fields: dict = field(default_factory=dict)   # column → words, for the audit log
    values: dict = field(default_factory=dict)   # column → {coded value → words}, for the audit log
    demo: Callable = None           # demo(db, village_row, DemoContext): sample records for the demo town
    files: str = None               # the payload field that names attached files by SHA-256

    def export_rows(self, db, village_code):
        if self.rows is not None:
            return self.rows(db, village_code)
        return list(db[self.table].rows_where("village_code = ?", [village_code], order_by="created_at"))

    @property
    def synced(self):
        return self.form is not None and self.to_record is not None


@dataclass
class Feature:
    """A feature package: its blueprint and the kinds of record it owns, registered together. A feature without
    records of its own (conflicts, the outbox) may still add tiles and tasks to a village's home."""
    name: str
    blueprint: Blueprint = None
    kinds: tuple = ()
    tiles: Callable = None
    tasks: Callable = None
    town_tasks: Callable = None
    figures: tuple = ()
    label: str = ""       # the desk's column group of its figures


class Registry:
    """The features of one app, in the order they were registered, and their kinds by name."""

    def __init__(self):
        self.features = []
        self.kinds = {}

    def add(self, app, feature):
        if feature.blueprint is not None:
            app.register_blueprint(feature.blueprint)
        self.features.append(feature)
        for kind in feature.kinds:
            if kind.name in self.kinds:
                raise ValueError(f"two kinds named {kind.name!r}")
            self.kinds[kind.name] = kind

    def synced(self):
        return {name: kind for name, kind in self.kinds.items() if kind.synced}

    def collect(self, attribute):
        """The non-empty values of one manifest attribute over every kind, in registration order."""
        return [(kind, getattr(kind, attribute)) for kind in self.kinds.values() if getattr(kind, attribute)]

    def gather(self, hook, *args):
        """Call a hook (tiles, tasks) of every feature and kind that has one; all the results, by their order."""
        owners = [*self.features, *self.kinds.values()]
        items = [item for owner in owners if getattr(owner, hook, None) for item in getattr(owner, hook)(*args)]
        return sorted(items, key=lambda item: item.order)

    def closed_tables(self, role):
        """The tables whose contents this role may not read: those of every kind it is not a reader of (the audit
        log then says that something was done, not what)."""
        out = set()
        for kind in self.kinds.values():
            if role not in kind.readers:
                out |= {kind.table, *kind.tables}
        return out

    def listings(self):
        """Every Listing of every kind, by its URL word, in their order."""
        found = sorted((listing for _kind, lists in self.collect("lists") for listing in lists), key=lambda l: l.order)
        return {listing.name: listing for listing in found}

    def merged(self, attribute):
        """One dict from a dict attribute of every kind (audit words)."""
        out = {}
        for _kind, value in self.collect(attribute):
            out.update(value)
        return out


def init_app(app, features):
    registry = Registry()
    app.extensions["villageapp"] = registry
    for feature in features:
        registry.add(app, feature)
    return registry


def registry(app=None):
    return (app or current_app).extensions["villageapp"]


def kind(name):
    return registry().kinds[name]


def synced():
    return registry().synced()


@dataclass
class DemoContext:
    """What a kind's demo hook gets besides the town's store and the village's row: who writes (the system's name),
    the shared random streams (kinds that draw from them must keep the demo's order), how many households to make and
    `account(role, village_code)`: the demo login that would take a step there."""
    actor: str
    fake: object
    rnd: object
    households: int
    account: Callable


def later(module, name):
    """A hook that lives in a module imported only when it is called (e.g. a feature's demo.py, which a serving app
    never needs): kinds.later("villageapp.registry.demo", "build")."""
    def hook(*args, **kwargs):
        from importlib import import_module
        return getattr(import_module(module), name)(*args, **kwargs)
    hook.__qualname__ = f"{module}.{name}"
    return hook

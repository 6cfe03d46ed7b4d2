"""The digest as lines of chat text, and the escaping that keeps workers' words plain text.

A comment or a station name is never trusted: it must not become a link, a mention or
formatting in any chat, nor hide or reorder text. Invisible, direction-changing and control
characters are removed; markup characters are swapped for their full-width look-alikes (chat
markdown has no reliable backslash escape); anything that could be auto-linked is broken.

A digest is also bounded: long lists are cut with a count, and a post takes at most the
messages it is given (Post.max_parts: what is left of the channel's day, jobs.outbox), the last
ending with the link to the web page.
"""
import re
import unicodedata

from feedback.counts.scale import LABELS
from feedback.i18n import TEXT

# Characters that mean something in WeCom, DingTalk, Feishu or Slack markup.
FULL_WIDTH = str.maketrans({
    "[": "［", "]": "］", "(": "（", ")": "）", "<": "＜", ">": "＞", "*": "＊", "_": "＿",
    "`": "｀", "#": "＃", "@": "＠", "~": "～", "|": "｜", "!": "！", "&": "＆", "\\": "＼",
})
# Control, format (zero-width, bidi overrides), private-use, unassigned and separator characters
HIDDEN_CATEGORIES = {"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"}
BLANK_LETTERS = set("\u115f\u1160\u17b4\u17b5\u180e\u2800\u3164\uffa0")  # letters drawn as nothing
# A scheme, with any colon that a browser reads as one
SCHEME = re.compile(r"(?i)(?<![a-z0-9])([a-z][a-z0-9+.-]*)[:：︓﹕]")
# A dot, or anything a browser or chat reads as one: the full stops and middle dots, and every
# character whose compatibility form (NFKC) holds a dot, like ⒈ (1.) and ︒ (。): a linkifier may
# fold it first (tests/test_chat_safety.py checks the second list against unicodedata).
DOTS = ".\u3002\u2e3c\u0701\u0702\u06d4\u00b7\u0387\u2027\u30fb\uff65"
DOTS_BY_COMPATIBILITY = ("\u2024\u2025\u2026\u2488\u2489\u248a\u248b\u248c\u248d\u248e\u248f\u2490"
                         "\u2491\u2492\u2493\u2494\u2495\u2496\u2497\u2498\u2499\u249a\u249b\u33c2"
                         "\u33c7\u33d8\ufe12\ufe19\ufe30\ufe52\uff0e\uff61\U0001f100")
DOT_LIKE = DOTS + DOTS_BY_COMPATIBILITY
# one followed by a letter, a digit or a mark of any script, whatever comes before it: "é.com"
# with the é written as e and a combining accent is a domain too
DOT = re.compile(f"[{re.escape(DOT_LIKE)}]")

BAD_RATINGS_SHOWN = 20   # in a chat; the web page has them all
QUIET_SHOWN = 20
COMMENT_SHOWN = 140      # characters of a comment in a chat


def markdown_link(text: str, url: str) -> str:
    return f"[{text}]({url})"


def reason_label(key: str) -> str:
    """A low-score reason in Chinese, as the worker saw it on the form."""
    return TEXT["zh"].get(f"reason.{key}", key)


def visible(text: str) -> str:
    """``text`` without the characters that hide or reorder what a reader sees."""
    return "".join(char for char in text if unicodedata.category(char) not in HIDDEN_CATEGORIES
                   and char not in BLANK_LETTERS)


def inert(text: str) -> str:
    """Untrusted text that no mail or chat client turns into a link: one visible line, every
    scheme and every domain-like dot broken by a space."""
    text = " ".join(visible(re.sub(r"\s", " ", text)).split())
    text = SCHEME.sub(lambda m: m.group(1) + "： ", text)
    return DOT.sub(broken_dot, text)


def broken_dot(match: re.Match) -> str:
    """A dot with a space after it when a letter, digit or mark follows (a domain could)."""
    after = match.string[match.end():match.end() + 1]
    return match.group() + " " if after and unicodedata.category(after)[0] in "LNM" else match.group()


def plain(text: str) -> str:
    """Untrusted text made inert for chat markup: no markup, no links, nothing hidden."""
    return inert(text.translate(FULL_WIDTH))


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def percent(rate) -> str:
    return "—" if rate is None else f"{rate * 100:.0f}%"


def mean(value) -> str:
    return "—" if value is None else f"{value:.2f}"


def lines(digest: dict, heading: str = "### ", bullet: str = "- ", bold=lambda s: f"**{s}**",
          link=markdown_link) -> list[str]:
    """The digest in Chinese, a line at a time; the markup is the caller's (markdown by default)."""
    scope = f"({plain(digest['scope'])})" if digest["scope"] else ""
    out = [bold(f"驿站服务日报 {digest['date']}{scope}"),
           f"评价 {digest['ratings_total']} 条 · 满意率 {percent(digest['satisfaction_rate'])} · "
           f"平均分 {mean(digest['mean_score'])}",
           "分布:" + " · ".join(f"{LABELS['zh'][int(s)]} {n}"
                              for s, n in digest["distribution"].items())]
    out.append(heading + f"差评 {digest['bad_ratings_total']} 条")
    for bad in digest["bad_ratings"][:BAD_RATINGS_SHOWN]:
        reasons = "、".join(plain(reason_label(r)) for r in bad["reasons"])
        text = f"{plain(bad['station_name'])}({plain(bad['station_code'])})" \
               f"{bad['rated_at'][11:16]} {bad['label']}"
        if reasons:
            text += f" · {reasons}"
        if bad["comment"]:
            text += f" · 「{shorten(plain(bad['comment']), COMMENT_SHOWN)}」"
        out.append(bullet + text)
    if digest["bad_ratings_total"] > BAD_RATINGS_SHOWN:
        out.append(bullet + f"另有 {digest['bad_ratings_total'] - BAD_RATINGS_SHOWN} 条差评,见网页版")
    if digest["overdue_cases"]:
        out.append(heading + f"逾期未整改 {len(digest['overdue_cases'])} 件")
        out += [bullet + f"{plain(c['district'])} · {plain(c['station_name'])}"
                f"({plain(c['station_code'])})· 期限 {c['due_on']}"
                for c in digest["overdue_cases"][:QUIET_SHOWN]]
        if len(digest["overdue_cases"]) > QUIET_SHOWN:
            out.append(bullet + f"另有 {len(digest['overdue_cases']) - QUIET_SHOWN} 件,见网页版")
    if len(digest["districts"]) > 1:
        out.append(heading + "各区")
        out += [bullet + f"{plain(d['district'])}:{d['ratings_total']} 条 · 满意率 "
                f"{percent(d['satisfaction_rate'])} · 差评 {d['bad_ratings_total']}"
                for d in digest["districts"]]
    for title, entries in (("近30天表现最好", digest["best"]), ("近30天需要关注", digest["worst"])):
        if entries:
            out.append(heading + title)
            out += [bullet + f"{plain(s['name'])} · 平均 {s['mean_score']:.2f} 分({s['ratings_total']} 条)"
                    for s in entries]
    for title, key in (("30天无评价", "quiet_30"), ("60天以上无评价", "quiet_60")):
        entries, total = digest[key], digest[f"{key}_total"]
        if entries:
            out.append(heading + f"{title} {total} 个")
            out += [bullet + f"{plain(s['name'])}({plain(s['code'])})· {s['days']} 天"
                    for s in entries[:QUIET_SHOWN]]
            if total > QUIET_SHOWN:
                out.append(bullet + f"另有 {total - QUIET_SHOWN} 个,见网页版")
    out.append(f"待复核降级驿站:{digest['flagged_total']} 个")
    out.append(link("查看网页版", digest["url"]))
    return out


def messages(post, limit_bytes: int, **markup) -> list[str]:
    """A post as chat messages of at most ``limit_bytes`` each and at most ``post.max_parts``;
    ``markup`` as for lines()."""
    link = markup.get("link", markdown_link)
    return split(post.lines(**markup), limit_bytes,
                 tail="内容较多,完整内容请" + link("查看网页版", post.url), max_parts=post.max_parts)


def split(all_lines: list[str], limit_bytes: int, tail: str, max_parts: int) -> list[str]:
    """Join lines into at most ``max_parts`` messages of at most ``limit_bytes`` of UTF-8,
    breaking between lines. With more than one, each starts with its number, "(2/3)", so a
    message sent twice (its answer lost) shows as a repeat. A post that would need more ends
    with ``tail`` (the link to the web page) instead of going on."""
    marker_room = len("(5/5)\n".encode())
    room = limit_bytes - marker_room
    pieces = []
    for line in all_lines:
        while len(line.encode()) > room:  # a line longer than a message: cut between characters
            cut = line.encode()[:room].decode(errors="ignore")
            pieces.append(cut)
            line = line[len(cut):]
        pieces.append(line)
    parts, current = [], ""
    for piece in pieces:
        candidate = f"{current}\n{piece}" if current else piece
        if len(candidate.encode()) > room:
            parts.append(current)
            candidate = piece
        current = candidate
    parts.append(current)
    if len(parts) > max_parts:
        parts = parts[:max_parts]
        last = parts[-1]
        while len(f"{last}\n{tail}".encode()) > room:
            last = last.rsplit("\n", 1)[0] if "\n" in last else ""
        parts[-1] = f"{last}\n{tail}" if last else tail
    if len(parts) == 1:
        return parts
    return [f"({number}/{len(parts)})\n{part}" for number, part in enumerate(parts, start=1)]


def change(now, before) -> str:
    """A satisfaction rate against the one before, in points."""
    if now is None or before is None:
        return ""
    points = (now - before) * 100
    return f"(较上周 {points:+.0f} 个百分点)"


def week_lines(report: dict, heading: str = "### ", bullet: str = "- ",
               bold=lambda s: f"**{s}**", link=markdown_link) -> list[str]:
    """The weekly report in Chinese, a line at a time; the markup is the caller's."""
    scope = f"({plain(report['scope'])})" if report.get("scope") else ""
    cases = report["cases"]
    median = cases["median_working_days"]
    out = [bold(f"驿站服务周报 {report['week']}{scope}"),
           f"{report['from']} 至 {report['to']}",
           f"评价 {report['ratings_total']} 条(上周 {report['previous']['ratings_total']} 条)· 满意率 "
           f"{percent(report['satisfaction_rate'])}"
           + change(report["satisfaction_rate"], report["previous"]["satisfaction_rate"]),
           heading + "整改",
           f"新立案 {cases['opened']} 件 · 按期整改 {cases['resolved_on_time']} 件 · 逾期整改 "
           f"{cases['resolved_late']} 件 · 未整改 {cases['open']} 件(其中逾期 {cases['overdue']} 件)"
           + (f" · 整改用时中位数 {median:g} 个工作日" if median is not None else "")]
    if report["overdue_cases"]:
        out.append(heading + f"逾期未整改 {len(report['overdue_cases'])} 件")
        out += [bullet + f"{plain(c['station_name'])}({plain(c['station_code'])})· "
                f"{plain(c['district'])} · 期限 {c['due_on']}"
                for c in report["overdue_cases"][:QUIET_SHOWN]]
    if len(report["districts"]) > 1:
        out.append(heading + "各区")
        out += [bullet + f"{plain(d['district'])}:{d['ratings_total']} 条 · 满意率 "
                f"{percent(d['satisfaction_rate'])} · 新立案 {d['cases_opened']} · 逾期 {d['cases_overdue']}"
                for d in report["districts"]]
    if report["repeat_bad_stations"]:
        out.append(heading + f"连续两周以上有差评 {report['repeat_bad_stations_total']} 个")
        out += [bullet + f"{plain(s['name'])}({plain(s['code'])})· 连续 {s['weeks']} 周"
                for s in report["repeat_bad_stations"][:QUIET_SHOWN]]
    out.append(f"本周无评价驿站:{report['quiet_stations_total']} 个")
    out.append(link("查看网页版", report["url"]))
    return out


def month_lines(report: dict, heading: str = "### ", bullet: str = "- ",
                bold=lambda s: f"**{s}**", link=markdown_link) -> list[str]:
    """The monthly report in Chinese, a line at a time; the markup is the caller's."""
    decisions = report["decisions"]
    out = [bold(f"驿站服务月报 {report['month']}"),
           f"在册驿站 {report['stations_listed']} 个 · 有评价 {report['stations_rated']} 个 · "
           f"无评价 {report['stations_quiet']} 个",
           f"评价 {report['ratings_total']} 条 · 满意率 {percent(report['satisfaction_rate'])} · "
           f"平均分 {mean(report['mean_score'])}",
           f"新立案 {report['cases_opened']} 件 · 按期整改率 {percent(report['cases_on_time_rate'])}",
           f"新增降级线索 {report['flags_raised']} 个 · 确认降级 {decisions['confirmed']} · 驳回 "
           f"{decisions['dismissed']} · 恢复 {decisions['reinstated']}",
           f"走访 {report['visits']['total']} 次 · 不合格项 {report['visits']['items_failed']} 个"]
    if report["by_district"]:
        out.append(heading + "各区")
        out += [bullet + f"{plain(d['district'])}:在册 {d['stations_listed']} · 评价 {d['ratings_total']} 条 · "
                f"满意率 {percent(d['satisfaction_rate'])} · 按期整改率 {percent(d['cases_on_time_rate'])}"
                for d in report["by_district"]]
    out.append(link("查看网页版", report["url"]))
    return out

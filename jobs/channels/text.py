"""The digest as lines of chat text, and the escaping that keeps workers' words plain text.

A comment or a station name is never trusted: it must not become a link, a mention or
formatting in any chat. Markup characters are swapped for their full-width look-alikes (chat
markdown has no reliable backslash escape), and anything that could be auto-linked is broken.
"""
import re

from feedback.i18n import TEXT
from feedback.scale import LABELS

# Characters that mean something in WeCom, DingTalk, Feishu or Slack markup.
FULL_WIDTH = str.maketrans({
    "[": "［", "]": "］", "(": "（", ")": "）", "<": "＜", ">": "＞", "*": "＊", "_": "＿",
    "`": "｀", "#": "＃", "@": "＠", "~": "～", "|": "｜", "!": "！", "&": "＆", "\\": "＼",
})
SCHEME = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*):/+")
DOMAIN_DOT = re.compile(r"(?<=[A-Za-z0-9])\.(?=[A-Za-z0-9])")


def reason_label(key: str) -> str:
    """A low-score reason in Chinese, as the worker saw it on the form."""
    return TEXT["zh"].get(f"reason.{key}", key)


def plain(text: str) -> str:
    """Untrusted text made inert for chat markup: one line, no markup, no auto-links."""
    text = " ".join(text.split())
    text = text.translate(FULL_WIDTH)
    text = SCHEME.sub(lambda m: m.group(1) + "：//", text)
    return DOMAIN_DOT.sub("․", text)  # one-dot leader: looks like a dot, links to nothing


def percent(rate) -> str:
    return "—" if rate is None else f"{rate * 100:.0f}%"


def mean(value) -> str:
    return "—" if value is None else f"{value:.2f}"


def lines(digest: dict, heading: str = "### ", bullet: str = "- ", bold=lambda s: f"**{s}**",
          link=lambda text, url: f"[{text}]({url})") -> list[str]:
    """The digest in Chinese, a line at a time; the markup is the caller's (markdown by default)."""
    scope = f"({plain(digest['scope'])})" if digest["scope"] else ""
    out = [bold(f"驿站服务日报 {digest['date']}{scope}"),
           f"评价 {digest['ratings_total']} 条 · 满意率 {percent(digest['satisfaction_rate'])} · "
           f"平均分 {mean(digest['mean_score'])}",
           "分布:" + " · ".join(f"{LABELS['zh'][int(s)]} {n}"
                              for s, n in digest["distribution"].items())]
    out.append(heading + f"差评 {digest['bad_ratings_total']} 条")
    for bad in digest["bad_ratings"]:
        reasons = "、".join(plain(reason_label(r)) for r in bad["reasons"])
        text = f"{plain(bad['station_name'])}({plain(bad['station_code'])})" \
               f"{bad['rated_at'][11:16]} {bad['label']}"
        if reasons:
            text += f" · {reasons}"
        if bad["comment"]:
            text += f" · 「{plain(bad['comment'])}」"
        out.append(bullet + text)
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
    for title, entries in (("30天无评价", digest["quiet_30"]), ("60天以上无评价", digest["quiet_60"])):
        if entries:
            out.append(heading + f"{title} {len(entries)} 个")
            out += [bullet + f"{plain(s['name'])}({plain(s['code'])})· {s['days']} 天" for s in entries]
    out.append(f"待复核降级驿站:{digest['flagged_total']} 个")
    out.append(link("查看网页版", digest["url"]))
    return out


def split(all_lines: list[str], limit_bytes: int, continued: str = "(续)") -> list[str]:
    """Join lines into messages of at most ``limit_bytes`` of UTF-8, breaking between lines;
    every message after the first starts with ``continued``."""
    room = limit_bytes - len(continued.encode()) - 1
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
        if len(candidate.encode()) > limit_bytes:
            parts.append(current)
            candidate = f"{continued}\n{piece}"
        current = candidate
    parts.append(current)
    return parts

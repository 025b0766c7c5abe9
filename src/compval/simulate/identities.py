"""Made-up identities of the simulated respondents: Chinese names (surnames by frequency), e-mail addresses and
mobile numbers."""

from __future__ import annotations

import numpy as np

__all__ = ["fake_identities"]

_SURNAMES = [
    ("Wang", 7.1),
    ("Li", 7.0),
    ("Zhang", 6.7),
    ("Liu", 5.4),
    ("Chen", 4.5),
    ("Yang", 3.1),
    ("Huang", 2.2),
    ("Zhao", 2.0),
    ("Wu", 2.0),
    ("Zhou", 1.9),
    ("Xu", 1.5),
    ("Sun", 1.4),
    ("Ma", 1.3),
    ("Zhu", 1.3),
    ("Hu", 1.2),
    ("Guo", 1.1),
    ("He", 1.0),
    ("Gao", 1.0),
    ("Lin", 1.0),
    ("Luo", 0.9),
    ("Zheng", 0.9),
    ("Liang", 0.9),
    ("Xie", 0.7),
    ("Song", 0.7),
    ("Tang", 0.7),
    ("Han", 0.6),
    ("Feng", 0.6),
    ("Deng", 0.6),
    ("Cao", 0.6),
    ("Peng", 0.5),
    ("Zeng", 0.5),
    ("Xiao", 0.5),
    ("Tian", 0.5),
    ("Dong", 0.5),
    ("Pan", 0.4),
    ("Yuan", 0.4),
    ("Cai", 0.4),
    ("Jiang", 0.4),
    ("Yu", 0.4),
    ("Du", 0.3),
]
_GIVEN_SYLLABLES = [
    "wei",
    "fang",
    "na",
    "min",
    "jing",
    "li",
    "qiang",
    "lei",
    "jun",
    "yang",
    "yong",
    "yan",
    "jie",
    "tao",
    "ming",
    "chao",
    "xiu",
    "xia",
    "ping",
    "gang",
    "hui",
    "hua",
    "dan",
    "bo",
    "lin",
    "ting",
    "hao",
    "yu",
    "xin",
    "jia",
    "chen",
    "rui",
    "kai",
    "peng",
    "fei",
    "qing",
    "zhi",
    "hong",
    "mei",
    "wen",
    "bin",
    "hai",
    "lan",
    "yi",
    "ning",
    "xue",
    "shan",
    "long",
    "feng",
    "yun",
]
_MOBILE_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "176",
    "177",
    "180",
    "181",
    "182",
    "185",
    "186",
    "187",
    "188",
    "189",
    "199",
]
_EMAIL_DOMAIN = "demobank.com.cn"


def fake_identities(rng: np.random.Generator, n: int) -> tuple[list[str], list[str], list[str]]:
    """Names, e-mail addresses and mobile numbers of ``n`` made-up respondents.

    Parameters
    ----------
    rng : numpy.random.Generator
        The simulation's ``identity`` stream.
    n : int
        Number of respondents.

    Returns
    -------
    tuple of list of str
        ``(names, emails, phones)``; e-mail addresses are unique (a counter is appended to repeated names).
    """
    sur, wts = zip(*_SURNAMES)
    wts = np.asarray(wts) / np.sum(wts)
    s_idx = rng.choice(len(sur), size=n, p=wts)
    two = rng.random(n) < 0.7
    g1 = rng.integers(0, len(_GIVEN_SYLLABLES), size=n)
    g2 = rng.integers(0, len(_GIVEN_SYLLABLES), size=n)
    pre = rng.integers(0, len(_MOBILE_PREFIXES), size=n)
    nums = rng.choice(10**8, size=n, replace=False)
    names, emails, phones = [], [], []
    seen: dict[str, int] = {}
    for i in range(n):
        given = _GIVEN_SYLLABLES[g1[i]] + (_GIVEN_SYLLABLES[g2[i]] if two[i] else "")
        surname = sur[s_idx[i]]
        names.append(f"{surname} {given.capitalize()}")
        local = f"{given}.{surname.lower()}"
        k = seen.get(local, 0)
        seen[local] = k + 1
        emails.append(f"{local}{k if k else ''}@{_EMAIL_DOMAIN}")
        phones.append(f"{_MOBILE_PREFIXES[pre[i]]}{nums[i]:08d}")
    return names, emails, phones

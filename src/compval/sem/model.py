"""The LISREL-type measurement model: parameter table -> matrices, implied moments and their derivatives, start
values (lavaan's ``lav_model_*``).

Model (per group): y = nu + Lambda eta + eps, eta = alpha + B eta + zeta, so that
Sigma = Lambda A Psi A' Lambda' + Theta and mu = nu + Lambda A alpha with A = (I - B)^-1 (Joreskog 1973;
the representation used by lavaan, Rosseel 2012).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .partable import ModelStructure
from .samplestats import GroupData

__all__ = ["Model", "reflect"]


class Model:
    """Parameter table + structure -> implied moments and their derivatives.

    Matrices per group: ``L`` (p x m), ``T`` (Theta, p x p), ``P`` (Psi, m x m), ``B`` (m x m), ``nu`` (p),
    ``al`` (alpha, m).
    """

    def __init__(self, pt: pd.DataFrame, st: ModelStructure):
        self.pt = pt.reset_index(drop=True)
        self.st = st
        self.ov = st.ov_names
        self.lv = st.lv_names
        self.p, self.m = len(self.ov), len(self.lv)
        self.ngroups = st.ngroups
        self.meanstructure = st.meanstructure
        free = self.pt["free"].to_numpy()
        self.nfree = int(free.max()) if (free > 0).any() else 0
        ovi = {v: i for i, v in enumerate(self.ov)}
        lvi = {v: i for i, v in enumerate(self.lv)}
        self.loc: list[tuple[int, str, int, int]] = []  # per row: group, matrix, i, j
        for grp, op, lhs, rhs in zip(*(self.pt[c].tolist() for c in ("group", "op", "lhs", "rhs"))):
            g = int(grp) - 1
            if op == "=~":
                if rhs in ovi:
                    self.loc.append((g, "L", ovi[rhs], lvi[lhs]))
                else:
                    self.loc.append((g, "B", lvi[rhs], lvi[lhs]))
            elif op == "~":
                self.loc.append((g, "B", lvi[lhs], lvi[rhs]))
            elif op == "~~":
                if lhs in ovi and rhs in ovi:
                    self.loc.append((g, "T", ovi[lhs], ovi[rhs]))
                elif lhs in lvi and rhs in lvi:
                    self.loc.append((g, "P", lvi[lhs], lvi[rhs]))
                else:
                    raise ValueError(f"covariance between an observed and a latent variable: {lhs} ~~ {rhs}")
            elif op == "~1":
                if lhs in ovi:
                    self.loc.append((g, "nu", ovi[lhs], 0))
                else:
                    self.loc.append((g, "al", lvi[lhs], 0))
            else:
                raise ValueError(f"unsupported operator {op!r}")
        self.free_idx = free - 1  # -1 = fixed
        self.fixed_val = self.pt["value"].to_numpy()

    # ---------------------------------------------------------------- matrices
    def _mat_index(self, g: int) -> dict:
        """Per group and matrix: (i, j, free index or -1, fixed value, free index clipped at 0) arrays of its
        rows (cached)."""
        cache = self.__dict__.setdefault("_mix", {})
        if g not in cache:
            rows = [k for k, loc in enumerate(self.loc) if loc[0] == g]
            out = {}
            for mat in ("L", "T", "P", "B", "nu", "al"):
                ks = np.array([k for k in rows if self.loc[k][1] == mat], dtype=int)
                out[mat] = (
                    np.array([self.loc[k][2] for k in ks], dtype=int),
                    np.array([self.loc[k][3] for k in ks], dtype=int),
                    self.free_idx[ks],
                    self.fixed_val[ks].astype(float),
                    np.clip(self.free_idx[ks], 0, None),
                )
            cache[g] = out
        return cache[g]

    def _fill_plan(self, g: int) -> dict:
        """Per group and matrix: (template holding the fixed values, flat positions of the free entries, their
        free-parameter indices), so that :meth:`matrices` is one copy and one assignment per matrix (cached).

        The positions repeat the assignments of the table's rows in their order -- (i, j) of every row, then
        (j, i) for the symmetric matrices -- so a matrix equals the row-by-row filling exactly."""
        cache = self.__dict__.setdefault("_fill", {})
        if g not in cache:
            shapes = {
                "L": (self.p, self.m),
                "T": (self.p, self.p),
                "P": (self.m, self.m),
                "B": (self.m, self.m),
                "nu": (self.p,),
                "al": (self.m,),
            }
            plan = {}
            for mat, (i, j, fi, fv, fi0) in self._mat_index(g).items():
                tmpl = np.zeros(shapes[mat])
                if mat in ("nu", "al"):
                    pos = i
                    tmpl[i] = np.where(fi >= 0, 0.0, fv)
                else:
                    ncol = shapes[mat][1]
                    pos = i * ncol + j
                    tmpl[i, j] = np.where(fi >= 0, 0.0, fv)
                    if mat in ("T", "P"):
                        tmpl[j, i] = np.where(fi >= 0, 0.0, fv)
                        pos = np.concatenate([pos, j * ncol + i])
                        fi = np.concatenate([fi, fi])
                free = fi >= 0
                plan[mat] = (tmpl, pos[free], fi[free])
            cache[g] = plan
        return cache[g]

    def has_regressions(self, g: int) -> bool:
        """Whether B (latent regressions, higher-order loadings) has any entry in group g; without one,
        A = (I - B)^-1 = I and Lambda A = Lambda."""
        cache = self.__dict__.setdefault("_hasb", {})
        if g not in cache:
            cache[g] = len(self._mat_index(g)["B"][0]) > 0
        return cache[g]

    def active(self, g: int) -> np.ndarray:
        """Sorted free-parameter indices that appear in group g."""
        cache = self.__dict__.setdefault("_act", {})
        if g not in cache:
            a = [self.free_idx[k] for k, loc in enumerate(self.loc) if loc[0] == g and self.free_idx[k] >= 0]
            cache[g] = np.unique(np.array(a, dtype=int))
        return cache[g]

    def matrices(self, x: np.ndarray, g: int) -> dict:
        x = np.asarray(x, dtype=float)
        M = {}
        for mat, (tmpl, pos, fi) in self._fill_plan(g).items():
            M[mat] = v = tmpl.copy()
            if len(pos):
                v.flat[pos] = x[fi]
        return M

    def _a_matrix(self, M: dict, g: int) -> np.ndarray | None:
        """A = (I - B)^-1, or None when group g has no latent regression (A = I)."""
        return np.linalg.inv(np.eye(self.m) - M["B"]) if self.has_regressions(g) else None

    def implied(self, x: np.ndarray, g: int, data_mean: np.ndarray | None = None):
        M = self.matrices(x, g)
        return self._implied_from(M, g, data_mean)[:2]

    def _implied_from(self, M: dict, g: int, data_mean):
        """(Sigma, mu, A, Lambda A) from the matrices of group g (A None when it is the identity)."""
        A = self._a_matrix(M, g)
        LA = M["L"] if A is None else M["L"] @ A
        sigma = LA @ M["P"] @ LA.T + M["T"]
        if self.meanstructure:
            mu = M["nu"] + LA @ M["al"]
        else:
            mu = data_mean if data_mean is not None else np.zeros(self.p)
        return sigma, mu, A, LA

    def _deriv_index(self, g: int) -> dict:
        """Per group: (free index, i, j) arrays of the free rows by matrix (cached; used by :meth:`derivatives`)."""
        cache = self.__dict__.setdefault("_dix", {})
        if g not in cache:
            acc: dict[str, list] = {k: [] for k in ("L", "B", "P", "T", "nu", "al")}
            for k, (gg, mat, i, j) in enumerate(self.loc):
                a = self.free_idx[k]
                if gg == g and a >= 0:
                    acc[mat].append((a, i, j))
            cache[g] = {
                k: tuple(np.array(c, dtype=int).reshape(-1) for c in zip(*v)) if v else None for k, v in acc.items()
            }
        return cache[g]

    def _constant_derivatives(self, g: int):
        """The parts of dSigma/dx and dmu/dx that do not depend on x -- residual (co)variances and intercepts,
        ones at their positions, as (flat positions, values) -- and whether the loadings and latent (co)variances
        each reach distinct (parameter, position) pairs (no equality constraint inside the group), so that their
        derivatives can be assigned instead of accumulated (cached)."""
        cache = self.__dict__.setdefault("_cdv", {})
        if g not in cache:
            p, q = self.p, self.nfree
            ix = self._deriv_index(g)
            dS0 = np.zeros((q, p, p))
            dm0 = np.zeros((q, p))
            if ix["T"] is not None:
                a, i, j = ix["T"]
                np.add.at(dS0, (a, i, j), 1.0)
                off = i != j
                np.add.at(dS0, (a[off], j[off], i[off]), 1.0)
            if ix["nu"] is not None:
                a, i, _ = ix["nu"]
                np.add.at(dm0, (a, i), 1.0)
            touched = set()  # parameters with a constant part: their varying parts must be added, not assigned
            for k in ("T", "nu"):
                if ix[k] is not None:
                    touched |= set(ix[k][0].tolist())
            unique: dict = {}
            for k in ("L", "P"):
                if ix[k] is None:
                    unique[k] = True
                    continue
                a = ix[k][0]
                unique[k] = len(np.unique(a)) == len(a) and not touched & set(a.tolist())
            if ix["P"] is not None:  # assigned after the loadings and regressions: none of theirs
                others = set()
                for k in ("L", "B"):
                    if ix[k] is not None:
                        others |= set(ix[k][0].tolist())
                unique["P"] = unique["P"] and not others & set(ix["P"][0].tolist())
            if ix["L"] is not None:
                a, i, _ = ix["L"]
                ar = np.arange(p)
                unique["L_pos"] = (
                    ((a * p + i) * p)[:, None] + ar[None, :],
                    (a * p * p + i)[:, None] + (ar * p)[None, :],
                )
            if ix["P"] is not None:
                unique["P_off"] = np.flatnonzero(ix["P"][1] != ix["P"][2])
            # kept as the positions and values of the non-zero entries (a q x p x p array per group would be
            # copied every step and held for the model's life)
            nzS, nzm = np.flatnonzero(dS0), np.flatnonzero(dm0)
            cache[g] = ((nzS, dS0.reshape(-1)[nzS]), (nzm, dm0.reshape(-1)[nzm]), unique)
        return cache[g]

    def _pieces(self, x: np.ndarray, g: int):
        """Matrices of group g and the products the derivatives need: M, A = (I - B)^-1, Lambda A,
        C = A Psi A' Lambda' (m x p), A alpha."""
        M = self.matrices(x, g)
        A = self._a_matrix(M, g)
        if A is None:  # A = I: the same products without multiplying by it
            return M, np.eye(self.m), M["L"], M["P"] @ M["L"].T, M["al"]
        return M, A, M["L"] @ A, A @ M["P"] @ A.T @ M["L"].T, A @ M["al"]

    def derivatives(self, x: np.ndarray, g: int):
        """dSigma/dx (q x p x p) and dmu/dx (q x p) for group g (columns of equal parameters summed)."""
        return self.moments(x, g, None, derivatives=True)[2:]

    def moments(self, x: np.ndarray, g: int, data_mean: np.ndarray | None = None, derivatives: bool = True):
        """(Sigma, mu, dSigma/dx, dmu/dx) of group g from one construction of its matrices (the derivatives None
        unless asked for); the same values as :meth:`implied` and :meth:`derivatives`.

        dSigma/d lambda_ij = e_i C_j. + C_j.' e_i' with C = A Psi A' Lambda'; dSigma/d psi_ij =
        (Lambda A)_.i (Lambda A)_.j' (+ its transpose off the diagonal); dSigma/d theta_ij = E_ij + E_ji;
        dSigma/d beta_ij = (Lambda A)_.i (A_j. Psi A' Lambda') + its transpose; dmu/d nu_i = e_i,
        dmu/d alpha_i = (Lambda A)_.i, dmu/d lambda_ij = e_i (A alpha)_j.
        """
        M = self.matrices(x, g)
        sigma, mu, A, LA = self._implied_from(M, g, data_mean)
        if not derivatives:
            return sigma, mu, None, None
        p = self.p
        (posS, valS), (posm, valm), unique = self._constant_derivatives(g)
        dS = np.zeros((self.nfree, p, p))
        dS.reshape(-1)[posS] = valS
        dm = np.zeros((self.nfree, p))
        dm.reshape(-1)[posm] = valm
        ix = self._deriv_index(g)
        if A is None:
            C = M["P"] @ M["L"].T
            Aal = M["al"]
        else:
            C = A @ M["P"] @ A.T @ M["L"].T
            Aal = A @ M["al"]
        if ix["L"] is not None:  # d(Sigma)/d lambda_ij = e_i C_j. + C_j.' e_i'
            a, i, j = ix["L"]
            Cj = C[j]
            if unique["L"]:
                row, col = unique["L_pos"]  # flat positions of (a, i, .) and (a, ., i)
                flat = dS.reshape(-1)
                flat[row] = Cj
                flat[col] += Cj
                if self.meanstructure:
                    dm[a, i] = Aal[j]
            else:
                ar = np.arange(p)
                np.add.at(dS, (a[:, None], i[:, None], ar[None, :]), Cj)
                np.add.at(dS, (a[:, None], ar[None, :], i[:, None]), Cj)
                if self.meanstructure:
                    np.add.at(dm, (a, i), Aal[j])
        if ix["B"] is not None:
            Am = np.eye(self.m) if A is None else A
            for a, i, j in zip(*ix["B"]):
                dLA = np.outer(LA[:, i], Am[j, :])
                t = dLA @ M["P"] @ LA.T
                dS[a] += t + t.T
                if self.meanstructure:
                    dm[a] += dLA @ M["al"]
        if ix["P"] is not None:
            a, i, j = ix["P"]
            t = LA[:, i].T[:, :, None] * LA[:, j].T[:, None, :]
            off = unique["P_off"]
            if len(off):
                t[off] += t[off].transpose(0, 2, 1)
            if unique["P"]:
                dS[a] = t
            else:
                np.add.at(dS, a, t)
        if ix["al"] is not None:
            a, i, _ = ix["al"]
            np.add.at(dm, a, LA[:, i].T)
        return sigma, mu, dS, dm

    def contract(self, x: np.ndarray, g: int, G: np.ndarray, gm: np.ndarray | None = None) -> np.ndarray:
        """tr(G dSigma/dx_a) + gm' dmu/dx_a for every free parameter a (G symmetric), without forming the
        derivative arrays of :meth:`derivatives` (same terms, contracted)."""
        q = self.nfree
        M, A, LA, C, Aal = self._pieces(x, g)
        out = np.zeros(q)
        ix = self._deriv_index(g)
        use_m = gm is not None
        gm = gm if gm is not None else np.zeros(self.p)  # only read when use_m
        if ix["L"] is not None:
            a, i, j = ix["L"]
            GC = G @ C.T  # p x m
            val = 2.0 * GC[i, j]
            if self.meanstructure and use_m:
                val = val + gm[i] * Aal[j]
            np.add.at(out, a, val)
        if ix["B"] is not None:
            PLA = M["P"] @ LA.T  # m x p
            for a, i, j in zip(*ix["B"]):
                r = A[j, :] @ PLA  # t = LA[:, i] r'
                out[a] += 2.0 * (LA[:, i] @ G @ r)
                if self.meanstructure and use_m:
                    out[a] += (gm @ LA[:, i]) * (A[j, :] @ M["al"])
        if ix["P"] is not None:
            a, i, j = ix["P"]
            GLA = G @ LA
            val = np.einsum("pk,pk->k", LA[:, i], GLA[:, j]) * np.where(i == j, 1.0, 2.0)
            np.add.at(out, a, val)
        if ix["T"] is not None:
            a, i, j = ix["T"]
            np.add.at(out, a, G[i, j] * np.where(i == j, 1.0, 2.0))
        if use_m and ix["nu"] is not None:
            a, i, _ = ix["nu"]
            np.add.at(out, a, gm[i])
        if use_m and ix["al"] is not None:
            a, i, _ = ix["al"]
            np.add.at(out, a, gm @ LA[:, i])
        return out

    def _term_plan(self, g: int):
        """Per group: the free parameter of each rank-2 term of dSigma/dx (rows of Lambda, Psi, Theta and B, in
        that order) and of each term of dmu/dx (nu, alpha, Lambda, B), the sorted active parameters, the terms'
        positions among them, and whether no parameter has two terms (cached; used by :meth:`information`)."""
        cache = self.__dict__.setdefault("_terms", {})
        if g not in cache:
            ix = self._deriv_index(g)
            act = self.active(g)
            sig = [ix[k][0] for k in ("L", "P", "T", "B") if ix[k] is not None]
            mean = [ix[k][0] for k in ("nu", "al", "L", "B") if ix[k] is not None] if self.meanstructure else []
            out = []
            for parts in (sig, mean):
                a = np.concatenate(parts) if parts else np.zeros(0, dtype=int)
                out.append((np.searchsorted(act, a), len(np.unique(a)) == len(a)))
            cache[g] = (act, out[0], out[1])
        return cache[g]

    def information(self, x: np.ndarray, g: int, si: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(act, H): the free parameters that appear in group g (sorted) and, over them,
        H_ab = tr(Sigma^-1 dSigma/dx_a Sigma^-1 dSigma/dx_b) + 2 dmu/dx_a' Sigma^-1 dmu/dx_b (the mean part with
        a mean structure): twice the complete-data expected information per observation, ``si`` = Sigma^-1.

        Formed without the q x p x p derivative array of :meth:`moments`. Every free entry of Lambda, Psi,
        Theta and B adds to dSigma/dx_a a symmetric rank-2 term u v' + v u' (the terms of :meth:`moments`):
        lambda_ij: u = e_i, v = C_j.; psi_ij: u = (Lambda A)_.i, v = (Lambda A)_.j; theta_ij: u = e_i, v = e_j
        (v halved on the diagonal of Psi and Theta); beta_ij: u = (Lambda A)_.i, v = (A_j. Psi A' Lambda')'.
        For two such terms, with S symmetric,

            tr(S (u v' + v u') S (w z' + z w')) = 2 (v'S w)(z'S u) + 2 (u'S w)(v'S z),

        so with the terms' vectors as the columns of U and V (p x T) the term-by-term matrix is
        2 (Mvu o Mvu' + Muu o Mvv), Muu = U'SU, Mvv = V'SV, Mvu = V'SU: O(T p^2 + T^2 p) operations where the
        dense products take O(q p^3 + q^2 p^2). The mean part is 2 D S D' with the rows of D the terms of dmu/dx
        (nu_i: e_i; alpha_i: (Lambda A)_.i; lambda_ij: e_i (A alpha)_j; beta_ij: (Lambda A)_.i (A_j. alpha)).
        Terms of one parameter (equality constraints inside the group) are summed. The same matrix as the dense
        products up to rounding (tests/test_cfa.py::
        test_information_and_gradient_from_rank_two_terms_equal_the_dense_products).
        """
        M, A, LA, C, Aal = self._pieces(x, g)
        ix = self._deriv_index(g)
        act, (pos, unique), (mpos, munique) = self._term_plan(g)
        eye = np.eye(self.p)
        U, V = [], []
        if ix["L"] is not None:
            _, i, j = ix["L"]
            U.append(eye[i])
            V.append(C[j])
        if ix["P"] is not None:
            _, i, j = ix["P"]
            U.append(LA[:, i].T)
            V.append(LA[:, j].T * np.where(i == j, 0.5, 1.0)[:, None])
        if ix["T"] is not None:
            _, i, j = ix["T"]
            U.append(eye[i])
            V.append(eye[j] * np.where(i == j, 0.5, 1.0)[:, None])
        if ix["B"] is not None:
            _, i, j = ix["B"]
            U.append(LA[:, i].T)
            V.append(A[j] @ M["P"] @ LA.T)
        H = np.zeros((len(act), len(act)))
        if U:
            Ut, Vt = np.concatenate(U), np.concatenate(V)  # T x p
            SU, SV = Ut @ si, Vt @ si
            Mvu = SV @ Ut.T
            Ht = 2.0 * (Mvu * Mvu.T + (SU @ Ut.T) * (SV @ Vt.T))
            _add_terms(H, pos, unique, Ht)
        if len(mpos):
            D = []
            if ix["nu"] is not None:
                D.append(eye[ix["nu"][1]])
            if ix["al"] is not None:
                D.append(LA[:, ix["al"][1]].T)
            if ix["L"] is not None:
                _, i, j = ix["L"]
                D.append(eye[i] * Aal[j][:, None])
            if ix["B"] is not None:
                _, i, j = ix["B"]
                D.append(LA[:, i].T * (A[j] @ M["al"])[:, None])
            Dt = np.concatenate(D)
            _add_terms(H, mpos, munique, 2.0 * (Dt @ si @ Dt.T))
        return act, H

    # ---------------------------------------------------------------- start values
    def start(self, groups: list[GroupData]) -> np.ndarray:
        x = np.zeros(self.nfree)
        done = np.zeros(self.nfree, dtype=bool)
        pt = self.pt
        # plain per-row lists: label-based pandas access per row dominated small fits
        label = pt.index.tolist()
        group, op, lhs, rhs = (pt[c].tolist() for c in ("group", "op", "lhs", "rhs"))
        free, value, start = (pt[c].tolist() for c in ("free", "value", "start"))
        for g in range(self.ngroups):
            gd = groups[g]
            S = gd.cov
            rows = [i for i in range(len(label)) if group[i] == g + 1]
            lam: dict[tuple[str, str], float] = {}
            lvvar: dict[str, float] = {}
            # first principal component of each factor's observed indicators
            for f in self.lv:
                ind = [i for i in rows if op[i] == "=~" and lhs[i] == f]
                obs = [rhs[i] for i in ind if rhs[i] in self.ov]
                if not obs:
                    continue
                idx = [self.ov.index(v) for v in obs]
                sub = S[np.ix_(idx, idx)]
                w, V = np.linalg.eigh(sub)
                l = V[:, -1] * np.sqrt(max(w[-1], 1e-6))
                if l.sum() < 0:
                    l = -l
                first = ind[0]
                fixed_first = free[first] == 0 and rhs[first] in obs
                if fixed_first:
                    l0 = l[obs.index(rhs[first])]
                    if abs(l0) < 1e-3:
                        l0 = 1e-3
                    scale = l0 / value[first] if value[first] else 1.0
                    lvvar[f] = scale**2
                    for v, lv_ in zip(obs, l):
                        lam[(f, v)] = lv_ / scale
                else:
                    lvvar[f] = 1.0
                    for v, lv_ in zip(obs, l):
                        lam[(f, v)] = lv_
            for i in rows:
                a = self.free_idx[label[i]]
                if a < 0 or done[a]:
                    continue
                if not pd.isna(start[i]):
                    x[a] = start[i]
                elif op[i] == "=~":
                    x[a] = lam.get((lhs[i], rhs[i]), 1.0)
                elif op[i] == "~~" and lhs[i] == rhs[i]:
                    if lhs[i] in self.ov:
                        x[a] = 0.5 * S[self.ov.index(lhs[i]), self.ov.index(lhs[i])]
                    else:
                        x[a] = lvvar.get(lhs[i], 0.05) * (0.5 if lhs[i] in self._endo() else 1.0)
                        if lhs[i] not in lvvar:
                            x[a] = 0.05
                elif op[i] == "~1" and lhs[i] in self.ov:
                    x[a] = gd.mean[self.ov.index(lhs[i])]
                else:
                    x[a] = 0.0
                done[a] = True
        return x

    def _endo(self) -> set:
        """Endogenous latent variables (indicators of another factor or regressed on one)."""
        if getattr(self, "_endo_cache", None) is None:
            lv = set(self.lv)
            rows = list(zip(self.pt["op"].tolist(), self.pt["lhs"].tolist(), self.pt["rhs"].tolist()))
            e = {rhs for op, _, rhs in rows if op == "=~" and rhs in lv}
            e |= {lhs for op, lhs, _ in rows if op == "~" and lhs in lv}
            self._endo_cache = e
        return self._endo_cache


def reflect(m: Model, x: np.ndarray) -> np.ndarray:
    """Sign convention of lavaan for factors identified by a fixed variance (std.lv): the first loading is
    positive. A factor whose first free loading (group 1) is negative is reflected: its loadings, its covariances
    with other variables and its regression weights change sign (an equivalent solution). Factors with a fixed
    loading or a parameter shared with another factor's are left alone."""
    x = np.asarray(x, dtype=float).copy()
    pt = m.pt
    fidx = m.free_idx
    for f in m.lv:
        load = pt.index[(pt["op"] == "=~") & (pt["lhs"] == f)]
        if not len(load) or (fidx[load] < 0).any():
            continue
        first = load[pt.loc[load, "group"].to_numpy() == pt.loc[load, "group"].min()][0]
        if x[fidx[first]] >= 0:
            continue
        rows = list(load)
        rows += list(pt.index[(pt["op"] == "~~") & (pt["lhs"] != pt["rhs"]) & ((pt["lhs"] == f) | (pt["rhs"] == f))])
        rows += list(pt.index[(pt["op"] == "~") & ((pt["rhs"] == f) | (pt["lhs"] == f))])
        rows += list(pt.index[(pt["op"] == "~1") & (pt["lhs"] == f)])
        idx = fidx[rows]
        if (idx < 0).any() and np.any(pt.loc[rows, "value"].fillna(0).to_numpy()[idx < 0] != 0):
            continue
        idx = np.unique(idx[idx >= 0])
        others = set(fidx[[k for k in range(len(pt)) if k not in set(rows)]])
        if any(a in others for a in idx):
            continue
        x[idx] = -x[idx]
    return x


def _add_terms(H: np.ndarray, pos: np.ndarray, unique: bool, Ht: np.ndarray) -> None:
    """H[pos_s, pos_t] += Ht[s, t] for every pair of terms (summed where terms share a parameter)."""
    if unique:
        H[np.ix_(pos, pos)] += Ht
    else:
        E = np.zeros((len(pos), H.shape[0]))
        E[np.arange(len(pos)), pos] = 1.0
        H += E.T @ Ht @ E

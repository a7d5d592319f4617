"""Who is identified for end-of-life care, without foresight: the surprise question.

"Would I be surprised if this patient died soon?" is asked by the clinician at a contact (an
urgent crisis, or the practice's register review of each person in the asked cohort once every
``register_review_days``) and again at each review of the end-of-life caseload. The answer is a
noisy reading of the person's *present* illness, whether their last phase of life has begun
(the phase that also raises their crisis rate), with the pooled sensitivity and specificity of
[src:downar-2017]. No decision reads the death time: tests/model/test_no_foresight.py pushes
every death after a time T later and checks that every service decision before T is unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.models.care import schema as s
from sim.rng import generator, seed_sequence

if TYPE_CHECKING:
    from sim.models.care.model import World

FIRST = 4  # draws per person from the stream's matrix (rows drawn on first use)
SWEEP_MIN = 4096  # people asked before the first sweep of those who have died


class MatrixRows:
    """Rows of ``generator(seed, replication, name).random((n, width))``, drawn one at a time.

    A per-person matrix drawn up front costs ``8 * width`` bytes a person, although few
    people ever use their row (2% of a year's population are asked the surprise question).
    PCG64 turns one 64-bit output into one uniform, so row ``i`` of the matrix begins
    ``i * width`` outputs into the stream: the row is drawn by resetting the stream to its
    start and advancing it there. The numbers are the matrix's, bit for bit.

    Parameters
    ----------
    seed, replication, name
        The named stream (:func:`sim.rng.generator`).
    width
        Columns of the matrix.
    """

    def __init__(self, seed: int, replication: int, name: str, width: int) -> None:
        self._bits = np.random.PCG64(seed_sequence(seed, replication, name))
        self._start = self._bits.state
        self._rng = np.random.Generator(self._bits)
        self.width = width

    def row(self, i: int) -> list[float]:
        """Row ``i`` of the matrix."""
        self._bits.state = self._start
        self._bits.advance(i * self.width)
        return self._rng.random(self.width).tolist()


class SurpriseQuestion:
    """The surprise question, asked of the old, the frail and care-home residents.

    Parameters
    ----------
    world
        The replication's shared state (population, illness phase, streams).

    Attributes
    ----------
    identified
        Per person: identified now (cleared when the caseload review discharges them).
    answers
        Counts of answers ``[[no, yes] when not in the last phase, [no, yes] in it]``: the
        model's own sensitivity and specificity, for the diagnostics.
    """

    def __init__(self, world: World) -> None:
        self.w = world
        cfg = world.params.model.eol
        pop = world.pop
        self.sensitivity = cfg.sensitivity
        self.specificity = cfg.specificity
        self._min_age = s.AGE_BANDS.index(cfg.asked_min_age_band)
        self._min_frailty = s.FRAILTY.index(cfg.asked_min_frailty)
        self.identified = np.zeros(pop.size, dtype=bool)
        self.answers = np.zeros((2, 2), dtype=np.int64)
        # Each person's first few answers come from their row of one matrix of the stream
        # (a generator per person costs more than the rest of a contact), drawn when first
        # needed (:class:`MatrixRows`); later ones from their own stream.
        st = world.streams
        self._first = MatrixRows(st.seed, st.replication, "eol/surprise", FIRST)
        self._rows: dict[int, list[float]] = {}  # first draws not yet used, by person
        self._used: dict[int, int] = {}  # draws used so far, by person asked
        self._streams: dict[int, np.random.Generator] = {}
        self._sweep_at = SWEEP_MIN  # people asked before the dead are forgotten again

    def draw(self, person: int) -> float:
        """The person's next uniform: their k-th draw is the same in every scenario."""
        if len(self._used) >= self._sweep_at:
            self._forget_the_dead()
        k = self._used.get(person, 0)
        self._used[person] = k + 1
        if k < FIRST:
            row = self._rows.pop(person) if k else self._first.row(person)
            if k + 1 < FIRST:
                self._rows[person] = row
            return row[k]
        return float(self.stream(person).random())

    def _forget_the_dead(self) -> None:
        """Drop the draw counts, rows and streams of people who have died.

        Nobody is asked after their death (contacts and reviews are of the living, and a
        death ends the caseload's reviews), so this changes no number; without it the
        open population's stream of new people asked grew memory by about 0.4 MB a
        simulated year at 50,000 people. Only the past is read: who has died by now.
        """
        now = self.w.env.now
        death = self.w.pop.death_time
        for book in (self._used, self._rows, self._streams):
            gone = [p for p in book if death[p] <= now]
            for p in gone:
                del book[p]
        self._sweep_at = max(SWEEP_MIN, 2 * len(self._used))

    def stream(self, person: int) -> np.random.Generator:
        """The person's own stream, for draws beyond the first ``FIRST``."""
        rng = self._streams.get(person)
        if rng is None:
            st = self.w.streams
            rng = generator(st.seed, st.replication, f"eol/surprise/{person}")
            self._streams[person] = rng
        return rng

    def in_cohort(self, people: np.ndarray) -> np.ndarray:
        """Whether each of ``people`` is in the cohort the question is asked of *now*: old
        enough, frail enough or living in a care home. Read from the present state, so
        people who age or become frail during the run join it (a cohort fixed at the start
        shrank as it died, and identification fell by half over five years)."""
        pop = self.w.pop
        return (
            (pop.age[people] >= self._min_age)
            | (pop.frailty[people] >= self._min_frailty)
            | pop.care_home[people]
        )

    def asked(self, person: int) -> bool:
        """In the cohort the question is asked of, now (:meth:`in_cohort`)."""
        pop = self.w.pop
        return bool(
            pop.age[person] >= self._min_age
            or pop.frailty[person] >= self._min_frailty
            or pop.care_home[person]
        )

    def ask(self, person: int, now: float) -> bool:
        """The clinician's answer now: True if they would not be surprised by a death."""
        in_phase = bool(self.w.phase_start[person] <= now)
        u = self.draw(person)
        yes = u < self.sensitivity if in_phase else u >= self.specificity
        self.answers[int(in_phase), int(yes)] += 1
        return yes

    def review(self, people: np.ndarray, now: float, u: np.ndarray) -> np.ndarray:
        """A practice's register review: ask the question of ``people`` at once.

        Parameters
        ----------
        people
            Person indices reviewed now.
        now
            Time of the review.
        u
            One uniform per person in ``people``, from the review's own stream (the same
            people are due on the same day in every scenario, so they draw the same numbers).

        Returns
        -------
        numpy.ndarray
            The people newly identified.
        """
        w = self.w
        due = (
            (w.pop.death_time[people] > now)
            & ~self.identified[people]
            & ~w.eol_enrolled[people]
            & self.in_cohort(people)
        )
        found = self._answer(people[due], now, u[due])
        self.identified[found] = True
        w.log.add_many(np.full(found.size, now), found, "eol_identified", "general_practice")
        return found

    def review_register(self, people: np.ndarray, now: float, u: np.ndarray) -> np.ndarray:
        """A register review of ``people`` already on the register whom no end-of-life team
        has taken on (their referral was lost): asked again, with the review's uniforms
        ``u``. Those no longer picked out come off the register.

        Returns
        -------
        numpy.ndarray
            Those still picked out, to be referred again.
        """
        yes = self._answer(people, now, u)
        kept = np.isin(people, yes)
        off = people[~kept]
        self.identified[off] = False
        self.w.log.add_many(np.full(off.size, now), off, "eol_removed", "general_practice")
        return yes

    def _answer(self, people: np.ndarray, now: float, u: np.ndarray) -> np.ndarray:
        """The people among ``people`` the question picks out now, one uniform each."""
        in_phase = self.w.phase_start[people] <= now
        yes = np.where(in_phase, u < self.sensitivity, u >= self.specificity)
        np.add.at(self.answers, (in_phase.astype(int), yes.astype(int)), 1)
        return people[yes]

    def at_contact(self, person: int, now: float) -> bool:
        """Ask at a contact unless already identified or cared for; True if newly identified."""
        w = self.w
        if self.identified[person] or w.eol_enrolled[person] or not self.asked(person):
            return False
        if not self.ask(person, now):
            return False
        self.identified[person] = True
        w.log.add(now, person, "eol_identified", "general_practice")
        return True

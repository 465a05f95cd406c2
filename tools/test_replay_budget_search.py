"""Unit tests of replay_budget_search's ladder walk and score (no models needed)."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from replay_budget_search import image_score, ladder  # noqa: E402


class LadderTest(unittest.TestCase):
    GRID = [8, 16, 24, 32]

    def test_smallest_met_budget_is_kept(self):
        self.assertEqual(ladder(self.GRID, lambda e: e >= 16, 0), (1, 2))

    def test_margin_keeps_a_budget_above_and_attempts_it(self):
        self.assertEqual(ladder(self.GRID, lambda e: e >= 16, 1), (2, 3))
        # Two places above: the walk attempts 8, 16 and then 32 only, as advspark's walk does.
        self.assertEqual(ladder(self.GRID, lambda e: e >= 16, 2), (3, 3))

    def test_margin_is_capped_at_the_largest(self):
        self.assertEqual(ladder(self.GRID, lambda e: e >= 32, 2), (3, 4))

    def test_nothing_met_keeps_the_largest(self):
        self.assertEqual(ladder(self.GRID, lambda e: False, 1), (3, 4))


class ScoreTest(unittest.TestCase):
    def test_tianchi2019(self):
        # Fooled on one of two variants at d 16 of 32: 2 (2 - 0.5) / 2.
        self.assertAlmostEqual(image_score([3, 7], label=7, target=5, linf=16, eps=32), 1.5)
        # The target class scores 5 (2 - d/eps).
        self.assertAlmostEqual(image_score([5], label=7, target=5, linf=16, eps=32), 7.5)
        self.assertEqual(image_score([7, 7], label=7, target=5, linf=0, eps=32), 0.0)


if __name__ == "__main__":
    unittest.main()

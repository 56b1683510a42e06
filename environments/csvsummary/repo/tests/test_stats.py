import pytest

from csvsummary import stats


def test_mean_and_median():
    assert stats.mean([1, 2, 3, 4]) == 2.5
    assert stats.median([3, 1, 2]) == 2
    assert stats.median([4, 1, 3, 2]) == 2.5


def test_stdev_is_sample_stdev():
    assert stats.stdev([2, 4, 4, 4, 5, 5, 7, 9]) == pytest.approx(2.138, abs=1e-3)
    assert stats.stdev([5]) == 0.0


def test_empty_input():
    with pytest.raises(ValueError):
        stats.mean([])

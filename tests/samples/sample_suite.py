"""A tiny suite with known outcomes, run by tests.functional.test_cli to check `flask test`
itself (its file name does not match test*.py, so discovery never runs it)."""
import unittest


class PassingSamples(unittest.TestCase):
    def test_one(self):
        self.assertTrue(True)

    def test_two(self):
        self.assertEqual(1 + 1, 2)

    @unittest.skip('sample skip')
    def test_skipped(self):
        pass


class FailingSamples(unittest.TestCase):
    def test_fails(self):
        self.assertEqual(1, 2)

    def test_errors(self):
        raise RuntimeError('sample error')

    @unittest.expectedFailure
    def test_expected_failure(self):
        self.assertEqual(1, 2)

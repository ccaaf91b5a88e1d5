"""A scikit-learn trial: a random forest on the digits data set (8x8 images of handwritten digits).

Run as a sweep (``runner: python`` calls ``train(config, context)`` once per trial)::

    sweeplab run examples/sklearn_digits/sweep.yaml
    sweeplab status sklearn_digits
    sweeplab export sklearn_digits --to optuna      # then: optuna-dashboard sqlite:///...

The returned mapping is what the trial reports: the numbers are its metrics, the rest (here the
class of the most confused pair) is kept beside them. See docs/trial_contract.md.
"""

from __future__ import annotations

import time
from typing import Any

from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, confusion_matrix, log_loss
from sklearn.model_selection import train_test_split

from sweeplab.errors import ConfigError


def train(config: dict[str, Any], context: Any) -> dict[str, Any]:
    """Fit a forest with the trial's hyperparameters; report test accuracy, log loss and fit time."""
    forest = config["forest"]
    if forest["n_estimators"] < 1:
        raise ConfigError(f"forest.n_estimators must be at least 1, got {forest['n_estimators']}")
    features, labels = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        features, labels, test_size=config["test_size"], random_state=context.seed, stratify=labels)
    model = RandomForestClassifier(n_estimators=forest["n_estimators"], max_depth=forest["max_depth"],
                                   random_state=context.seed, n_jobs=1)  # one thread: the sweep runs trials side by side
    started = time.perf_counter()
    model.fit(x_train, y_train)
    fit_seconds = time.perf_counter() - started
    predicted = model.predict(x_test)
    matrix = confusion_matrix(y_test, predicted)
    for digit in range(len(matrix)):
        matrix[digit, digit] = 0
    true_digit, predicted_digit = divmod(int(matrix.argmax()), len(matrix))
    return {
        "accuracy": accuracy_score(y_test, predicted),
        "log_loss": log_loss(y_test, model.predict_proba(x_test), labels=model.classes_),
        "fit_seconds": fit_seconds,
        "most_confused": f"{true_digit} as {predicted_digit}",
    }

import keras
import numpy as np
import pytest
from compression_helpers import make_mlp
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from skautosearch.compression import Distillation
from skautosearch.compression.distillation import soften, teacher_logits

pytestmark = pytest.mark.keras


def test_soften():
    p = np.array([[0.7, 0.2, 0.1]])
    np.testing.assert_allclose(soften(p, 1.0), p, rtol=1e-6)
    hot = soften(p, 5.0)
    assert hot.sum() == pytest.approx(1) and hot.max() < 0.5 and np.argmax(hot) == 0


def test_student_learns_from_the_teacher(digits):
    X, y = digits
    student = make_mlp(hidden=(16,))
    # A teacher that names every digit one too high: only a student that really
    # listens to it can learn that.
    liar = LogisticRegression(max_iter=300).fit(X, (y + 1) % 10)
    kwargs = dict(epochs=15, augment=None, validation_fraction=None, random_state=0)
    taught = Distillation(liar, student, alpha=1.0, temperature=1.0, **kwargs).fit(X, y)
    alone = Distillation(liar, student, alpha=0.0, **kwargs).fit(X, y)  # labels only
    assert np.abs(taught.predict_proba(X) - alone.predict_proba(X)).max() > 0.1
    lie = (y + 1) % 10
    assert np.mean(taught.predict(X) == lie) > np.mean(taught.predict(X) == y) + 0.2
    assert np.mean(alone.predict(X) == y) > np.mean(alone.predict(X) == lie) + 0.2
    assert (
        taught.compression_report_["before"]["n_params"] is None
    )  # not a Keras teacher


def test_unfitted_teacher_is_cloned_and_fitted(digits):
    X, y = digits
    teacher = LogisticRegression(max_iter=200)
    d = Distillation(teacher, make_mlp(hidden=(4,)), epochs=1, n_augment=0.5).fit(X, y)
    assert not hasattr(teacher, "coef_") and d.teacher_.coef_.shape == (10, 64)
    assert 0 <= d.compression_report_["before"]["score"] <= 1
    assert d.compression_report_["after"]["n_params"] == 64 * 4 + 4 + 4 * 10 + 10


def test_fitted_teacher_is_used_as_is(digits):
    X, y = digits
    teacher = LogisticRegression(max_iter=200).fit(X, y)
    coef = teacher.coef_.copy()
    d = Distillation(teacher, make_mlp(hidden=(4,)), epochs=1, augment=None).fit(X, y)
    assert d.teacher_ is teacher
    np.testing.assert_array_equal(teacher.coef_, coef)


def test_student_output_must_match_teacher_classes(digits, monkeypatch):
    X, y = digits
    mask = y < 3
    student = make_mlp()  # its output layer is sized from y: 10 units
    teacher = LogisticRegression().fit(X[mask], y[mask])
    with pytest.raises(ValueError, match="teacher"):
        Distillation(teacher, student).fit(X, y)
    narrow = make_mlp()
    monkeypatch.setattr(type(narrow), "fit", lambda *a, **k: pytest.fail("trained"))
    from skautosearch.compression import distillation

    monkeypatch.setattr(distillation, "_output_units", lambda model: 3)
    with pytest.raises(ValueError, match="`student` outputs 3 values .* 10 classes"):
        Distillation(LogisticRegression(), narrow).fit(X, y)


def test_bad_teacher_and_student(digits):
    with pytest.raises(TypeError, match="`teacher`"):
        Distillation(LinearSVC(), make_mlp()).fit(*digits)
    with pytest.raises(TypeError, match="`student`"):
        Distillation(LogisticRegression(), LogisticRegression()).fit(*digits)


def test_transfer_data_is_labelled_by_the_teacher(digits, monkeypatch):
    X, y = digits
    teacher = LogisticRegression(max_iter=200).fit(X, y)
    seen = []
    original = LogisticRegression.predict_proba
    monkeypatch.setattr(LogisticRegression, "predict_proba",
                        lambda self, Z: seen.append(len(Z)) or original(self, Z))
    extra = X[:30] + 0.05
    Distillation(teacher, make_mlp(hidden=(4,)), epochs=1, augment=None, transfer_data=extra,
                 validation_fraction=None).fit(X, y)
    assert len(X) + 30 in seen
    seen.clear()
    Distillation(teacher, make_mlp(hidden=(4,)), epochs=1, n_augment=0.5, transfer_data=extra,
                 validation_fraction=None).fit(X, y)
    assert len(X) + 30 + 200 in seen and len(X) + 30 not in seen


def test_transfer_data_of_the_wrong_shape(digits):
    X, y = digits
    with pytest.raises(ValueError, match="`transfer_data` must have the shape"):
        Distillation(LogisticRegression(), make_mlp(), transfer_data=X[:, :10]).fit(X, y)


def test_teacher_logits_are_centred_log_probabilities():
    p = np.array([[0.7, 0.2, 0.1], [0.5, 0.5, 0.0]])
    z = teacher_logits(p)
    np.testing.assert_allclose(z.sum(axis=1), 0, atol=1e-9)
    np.testing.assert_allclose(np.exp(z[0]) / np.exp(z[0]).sum(), p[0], rtol=1e-9)
    assert np.isfinite(z).all()  # a zero probability is clipped, not -inf


@pytest.mark.parametrize("scikeras", [False, True])
def test_the_students_fit_callbacks_run_during_distillation(digits, scikeras):
    # A learning-rate schedule given to the student must apply to its
    # distillation too, or the student trained alone is not a fair baseline.
    X, y = digits
    seen = []
    record = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append((epoch, sorted(logs)))
    )
    student = make_mlp(hidden=(4,), epochs=5, scikeras=scikeras, callbacks=[record])
    teacher = LogisticRegression(max_iter=200).fit(X, y)
    Distillation(teacher, student, epochs=2, augment=None, validation_fraction=None).fit(X, y)
    assert [epoch for epoch, _ in seen] == [0, 1]
    assert "loss" in seen[0][1]


def test_logits_mse_student_follows_the_teacher(digits):
    X, y = digits
    liar = LogisticRegression(max_iter=300).fit(X, (y + 1) % 10)
    d = Distillation(liar, make_mlp(hidden=(16,)), loss="logits_mse", alpha=1.0, epochs=15,
                     augment=None, validation_fraction=None, random_state=0).fit(X, y)
    agree = np.mean(d.predict(X) == liar.predict(X))
    assert agree > 0.8 and agree > np.mean(d.predict(X) == y) + 0.5


def test_bad_loss(digits):
    with pytest.raises(ValueError, match="'loss' parameter"):
        Distillation(LogisticRegression(), make_mlp(), loss="mse").fit(*digits)

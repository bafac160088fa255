"""The fitted linear pipeline's probabilities for one message, computed without sklearn's per-call cost.

`nlu/linear.py` trains the pipeline with sklearn; serving a single message through sklearn spent
most of a parse on work that does not depend on the text. `Scorer` reads the fitted arrays once.
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple


class Scorer:
    """The fitted pipeline's probabilities for one message at a time, without sklearn's per-call cost.

    On a single message sklearn spends most of a call on what does not depend on the text:
    input validation in every step, a joblib dispatch in the feature union, and `idf_`, which
    TfidfVectorizer rebuilds from a 200,000-column sparse diagonal on every access. In the serving
    path that was about 6 ms of a 7 ms parse per component. This computes the same thing (term
    counts, sublinear tf, idf, l2 norm per vectorizer; one-vs-rest logistic probabilities) from
    arrays taken once from the fitted model; `tests/test_nlu_features.py` holds it equal to sklearn's
    own `predict_proba`.
    """

    def __init__(self, model: Any) -> None:
        import numpy as np

        self._parts = []
        masks = []
        offset = 0
        for _name, vectorizer in model[0].transformer_list:
            if not (vectorizer.sublinear_tf and vectorizer.use_idf and vectorizer.norm == "l2"):
                raise ValueError("Scorer reproduces sublinear, idf-weighted, l2-normalised tf-idf only")
            idf = np.asarray(vectorizer.idf_, dtype=np.float64)
            self._parts.append((vectorizer.build_analyzer(), vectorizer.vocabulary_, idf, offset))
            mask = np.zeros(len(vectorizer.vocabulary_), dtype=bool)
            for term, index in vectorizer.vocabulary_.items():
                mask[index] = bool(term.strip())
            masks.append(mask)
            offset += len(vectorizer.vocabulary_)
        # The columns that say something: every word n-gram, and every character n-gram with more than
        # the spaces the character vectorizer pads words with (which any text has).
        self._informative = np.concatenate(masks)
        classifier = model[-1]
        if classifier.coef_.shape[0] < 2:
            raise ValueError("Scorer reproduces multi-class one-vs-rest models only")
        self._coef = classifier.coef_  # (labels, features); a message has a few hundred of the columns
        self._intercept = np.asarray(classifier.intercept_, dtype=np.float64)

    def columns(self, packed: str) -> Tuple[Any, Any]:
        """The feature columns of a message and their tf-idf values."""
        import numpy as np

        columns: List[int] = []
        values: List[float] = []
        for analyzer, vocabulary, idf, offset in self._parts:
            counts: Dict[int, int] = {}
            for term in analyzer(packed):
                index = vocabulary.get(term)
                if index is not None:
                    counts[index] = counts.get(index, 0) + 1
            if not counts:
                continue
            indices = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            weights = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))) * idf[indices]
            norm = np.sqrt(np.dot(weights, weights))
            columns.append(indices + offset)
            values.append(weights / norm if norm else weights)
        if not columns:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        return np.concatenate(columns), np.concatenate(values)

    def known(self, columns: Any) -> bool:
        """Whether a message has at least one informative feature."""
        return bool(self._informative[columns].any())

    def probabilities(self, columns: Any, values: Any) -> Any:
        import numpy as np

        scores = self._coef[:, columns] @ values + self._intercept
        probabilities = 1.0 / (1.0 + np.exp(-scores))
        return probabilities / probabilities.sum()

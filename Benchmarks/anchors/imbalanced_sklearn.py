"""Anchor: scikit-learn on README.md's 95/5 file ("Imbalanced data, validation and schedules"), on the
split `train` uses (train_test_split(test_size=0.2, random_state=33), row for row), features
standardised with the training rows' mean and std as `train` does. Prints the recall per class and the
ROC AUC of MLPClassifier((8, 9, 5, 4), early_stopping=True) (five seeds: it has no class weights) and
of LogisticRegression(class_weight="balanced").
Usage: datagen --rows 20000 --features 8 --class-weights 19,1 --out fraud.csv
       python imbalanced_sklearn.py fraud.csv   (in a venv with scikit-learn and pandas, outside the repository)"""
import sys, numpy as np, pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import recall_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

frame = pd.read_csv(sys.argv[1])
x, y = frame.drop(columns="label").to_numpy(np.float32), frame["label"].to_numpy()
x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=33)
scaler = StandardScaler().fit(x_train)
x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)

def line(name, model):
    model.fit(x_train, y_train)
    recall = recall_score(y_test, model.predict(x_test), average=None)
    auc = roc_auc_score(y_test, model.predict_proba(x_test)[:, 1])
    print(f"{name}: recall {recall[0]:.3f} / {recall[1]:.3f}, ROC AUC {auc:.3f}")

for seed in range(5):
    line(f"MLPClassifier((8, 9, 5, 4), early_stopping=True, random_state={seed})",
         MLPClassifier((8, 9, 5, 4), early_stopping=True, random_state=seed))
line('LogisticRegression(class_weight="balanced")', LogisticRegression(class_weight="balanced"))

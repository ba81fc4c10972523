# Run once at development time (R 4.2.2, survival 3.5.3, cmprsk 2.2.11) to produce r_reference.py;
# the three CSVs are scikit-survival 0.28.0 datasets (load_bmt, load_cgvhd, load_veterans_lung_cancer) written unchanged.
library(survival); library(cmprsk)
options(digits=15)
out <- "/tmp/outcomes_r/out/"
w <- function(df, name) write.csv(df, paste0(out, name, ".csv"), row.names=FALSE)
bmt <- read.csv("/tmp/outcomes_r/bmt.csv")
cg <- read.csv("/tmp/outcomes_r/cgvhd.csv")
vet <- read.csv("/tmp/outcomes_r/veterans_lung_cancer.csv")
vet$ev <- as.integer(vet$Status == "True")
km_tab <- function(fit) {
  s <- summary(fit, censored=TRUE)
  st <- if (is.null(s$strata)) rep("all", length(s$time)) else as.character(s$strata)
  data.frame(strata=st, time=s$time, n_risk=s$n.risk, n_event=s$n.event, surv=s$surv, std_err=s$std.err, lower=s$lower, upper=s$upper)
}
# Kaplan-Meier, log-log CI
w(km_tab(survfit(Surv(ftime, status > 0) ~ 1, data=bmt, conf.type="log-log")), "km_bmt_all")
w(km_tab(survfit(Surv(ftime, status > 0) ~ dis, data=bmt, conf.type="log-log")), "km_bmt_dis")
w(km_tab(survfit(Surv(Survival_in_days, ev) ~ Treatment, data=vet, conf.type="log-log")), "km_vet_trt")
w(km_tab(survfit(Surv(ftime, status > 0) ~ 1, data=cg, conf.type="log-log")), "km_cg_all")
# Log-rank
lr <- function(sd) data.frame(chisq=sd$chisq, df=length(sd$n)-1, p=pchisq(sd$chisq, length(sd$n)-1, lower.tail=FALSE))
w(lr(survdiff(Surv(ftime, status > 0) ~ dis, data=bmt)), "lr_bmt_dis")
w(lr(survdiff(Surv(Survival_in_days, ev) ~ Treatment, data=vet)), "lr_vet_trt")
w(lr(survdiff(Surv(Survival_in_days, ev) ~ Celltype, data=vet)), "lr_vet_cell")
w(lr(survdiff(Surv(ftime, status > 0) ~ dx, data=cg)), "lr_cg_dx")
# cuminc
ci_tab <- function(ci) {
  nm <- setdiff(names(ci), "Tests"); r <- NULL
  for (k in nm) r <- rbind(r, data.frame(curve=k, time=ci[[k]]$time, est=ci[[k]]$est, var=ci[[k]]$var))
  r
}
ci_b <- cuminc(bmt$ftime, bmt$status, cencode=0); w(ci_tab(ci_b), "ci_bmt_all")
ci_bd <- cuminc(bmt$ftime, bmt$status, group=bmt$dis, cencode=0); w(ci_tab(ci_bd), "ci_bmt_dis")
w(data.frame(cause=rownames(ci_bd$Tests), ci_bd$Tests), "gray_bmt_dis")
ci_c <- cuminc(cg$ftime, cg$status, cencode=0); w(ci_tab(ci_c), "ci_cg_all")
ci_ct <- cuminc(cg$ftime, cg$status, group=cg$tx, cencode=0); w(ci_tab(ci_ct), "ci_cg_tx")
w(data.frame(cause=rownames(ci_ct$Tests), ci_ct$Tests), "gray_cg_tx")
ci_cd <- cuminc(cg$ftime, cg$status, group=cg$dx, cencode=0)
w(data.frame(cause=rownames(ci_cd$Tests), ci_cd$Tests), "gray_cg_dx")
# Cox (Efron)
cx <- coxph(Surv(Survival_in_days, ev) ~ Age_in_years + Karnofsky_score + Treatment, data=vet, ties="efron")
w(data.frame(term=names(coef(cx)), coef=coef(cx), se=sqrt(diag(vcov(cx)))), "cox_vet")
# Fine-Gray (for reference only)
fg <- crr(bmt$ftime, bmt$status, cov1=cbind(dis=bmt$dis), failcode=1, cencode=0)
w(data.frame(term="dis", coef=fg$coef, se=sqrt(diag(fg$var))), "crr_bmt")
cat(R.version.string, "survival", as.character(packageVersion("survival")), "cmprsk", as.character(packageVersion("cmprsk")), "\n")
# Three groups: age < 35, 35-49, >= 50 (cgvhd)
cg$agegrp <- ifelse(cg$age < 35, "a<35", ifelse(cg$age < 50, "b35-49", "c>=50"))
ci_ca <- cuminc(cg$ftime, cg$status, group=cg$agegrp, cencode=0)
w(data.frame(cause=rownames(ci_ca$Tests), ci_ca$Tests), "gray_cg_age3")
ci_ca2 <- cuminc(cg$ftime, cg$status, group=cg$agegrp, cencode=0, rho=1)
w(data.frame(cause=rownames(ci_ca2$Tests), ci_ca2$Tests), "gray_cg_age3_rho1")
# Fine-Gray (cmprsk::crr), default settings (gtol=1e-6, maxiter=10, censoring KM overall)
crr_tab <- function(fit) data.frame(term=names(fit$coef), coef=fit$coef, se=sqrt(diag(fit$var)), converged=fit$converged)
fg1 <- crr(bmt$ftime, bmt$status, cov1=cbind(dis=bmt$dis), failcode=1, cencode=0)
w(crr_tab(fg1), "crr_bmt_dis_c1")
fg2 <- crr(bmt$ftime, bmt$status, cov1=cbind(dis=bmt$dis), failcode=2, cencode=0)
w(crr_tab(fg2), "crr_bmt_dis_c2")
X <- cbind(age=cg$age, txPB=as.integer(cg$tx=="PB"), dxCML=as.integer(cg$dx=="CML"))
fg3 <- crr(cg$ftime, cg$status, cov1=X, failcode=1, cencode=0)
w(crr_tab(fg3), "crr_cg_c1")
fg4 <- crr(cg$ftime, cg$status, cov1=X, failcode=2, cencode=0)
w(crr_tab(fg4), "crr_cg_c2")

#!/usr/bin/env python3
"""Random event-bus values rendered by the real chart, for tests/bus_templates.rs.

    python3 scripts/bus_templates_random.py SEED COUNT OUTDIR
    BUS_TEMPLATES_CASES=OUTDIR cargo test --test bus_templates chart_owned

Each OUTDIR/rNNN/ gets values.yaml and, when the chart accepts it, rendered.yaml (else refused.txt).
HELM_PY (default /work/main/.tools/helm-venv/bin/python) and RENDER_PY (default
/work/shared/helm/render.py) name the renderer. On 2026-12-02, seeds 1 and 2 (53 + 127 accepted cases)
all matched byte for byte.
"""
import random, json, os, sys, subprocess
HELM_PY=os.environ.get("HELM_PY","/work/main/.tools/helm-venv/bin/python")
RENDER_PY=os.environ.get("RENDER_PY","/work/shared/helm/render.py")
seed=int(sys.argv[1]); n=int(sys.argv[2]); out=sys.argv[3]
rnd=random.Random(seed)
def scalar():
    c=rnd.randrange(12)
    if c==0: return rnd.choice([0,1,9,100000,123456,1000000,1234567,10**9,2**40,-5])
    if c==1: return rnd.choice([0.5,1.5,1e-5,0.0001,2.5e7,1e21,-0.25])
    if c==2: return rnd.choice([True,False])
    if c==3: return None
    if c==4: return rnd.choice(["", " x", "x ", "a: b", "#c", "tab\tx", "q\"u", "b\\s", "ünï", "<>&", "line\nnext", "yes", "123", "1e3", "~", "- a", "@x", "{x}", "x,y"])
    if c==5: return " ".join(rnd.choice(["alpha","beta","gamma","delta"]) for _ in range(rnd.randrange(1,30)))
    return rnd.choice(["a.>", "$JS.API.>", "foo.*.bar", "/etc/x.crt", "nats://h:4222", "CN=x"])
def value(d=0):
    c=rnd.randrange(10)
    if d<3 and c<2: return {rnd.choice(["k1","k2","max_x","sub key","a.b"]): value(d+1) for _ in range(rnd.randrange(0,4))}
    if d<3 and c<4: return [value(d+1) for _ in range(rnd.randrange(0,4))]
    return scalar()
def name():
    return rnd.choice(["Alpha","beta","GammaRay","d9","Ops","mEtRiCs","Zed","LaunchLayer"])
for i in range(n):
    ct=rnd.choice(["csc","cpc"])
    eb={"clusterType":ct}
    if ct=="cpc":
        eb["clusterId"]=rnd.choice(["1","x9",7,0,"hall3"])
        eb["cscEndpoint"]=rnd.choice(["nats://10.0.0.1:7422","tls://a.b:443"])
        eb["crossLayer"]={k:[rnd.choice(["s.>","c.*","x",5,True]) for _ in range(rnd.randrange(0,3))] for k in ["cscExports","cscPrefixedExports","cpcExports"] if rnd.random()<0.7}
    else:
        ids=rnd.sample(["1","2","a9","b",3,4,"zz"],rnd.randrange(0,4))
        eb["cpcIds"]=ids
    if rnd.random()<0.6:
        acc={}
        for _ in range(rnd.randrange(1,4)):
            cfg={}
            if rnd.random()<0.4: cfg["enabled"]=rnd.choice([True,False,"false",0,1,None,""])
            for _ in range(rnd.randrange(0,4)):
                cfg[rnd.choice(["jetstream","max_connections","exports","users","limits","mappings","note","leaf"])]=value()
            acc[name()]=cfg
        eb["extraAccounts"]=acc
    for k in ["cscLeafServerTLS","cpcLeafClientTLS"]:
        if rnd.random()<0.5:
            eb[k]={rnd.choice(["handshake_first","ca_file","verify","timeout","cipher_suites","nested"]):value() for _ in range(rnd.randrange(0,4))}
    if rnd.random()<0.3: eb["mtls"]={"enabled":rnd.choice([True,False])}
    if rnd.random()<0.5:
        perms={}
        if rnd.random()<0.5: perms["nkey"]={"u"+str(j):{"public_key":"UABC","account":"CSC","permissions":{"pub":{"allow":[scalar()]}}} for j in range(rnd.randrange(1,3))}
        if rnd.random()<0.5: perms["oauth2"]={"c":{"azp":scalar(),"account":"CSC"}}
        if rnd.random()<0.4: perms["noauth"]=rnd.choice([None,{"account":"CSC"}])
        eb["auth"]={"permissions":perms}
    vals={"global":{"eventBus":eb}}
    if rnd.random()<0.4:
        vals["auth-callout"]={"serviceConfig":{rnd.choice(["jwks","host","extra","observability"]):value() for _ in range(rnd.randrange(1,4))}}
        if rnd.random()<0.3: vals["auth-callout"]["nameOverride"]=rnd.choice(["x","callout","nats-event"])
    if rnd.random()<0.2: vals["nack"]={"jetstream":{"enabled":True}}
    d=os.path.join(out,"r%03d"%i); os.makedirs(d,exist_ok=True)
    with open(d+"/values.yaml","w") as f: json.dump(vals,f,indent=1)
    r=subprocess.run([HELM_PY,RENDER_PY,"-n","nats","-f",d+"/values.yaml"],capture_output=True,text=True)
    if r.returncode!=0:
        open(d+"/refused.txt","w").write(r.stderr)
    else:
        open(d+"/rendered.yaml","w").write(r.stdout)
